module preview-environments/policies

go 1.26
