module preview-environments/update-file-action

go 1.26
