module preview-environments/test

go 1.26
