module preview-environments/service

go 1.26
