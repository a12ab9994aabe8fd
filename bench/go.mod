module preview-environments/bench

go 1.26.0
