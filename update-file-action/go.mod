module preview-environments/update-file-action

go 1.26

require (
	github.com/google/go-github/v60 v60.0.0
	github.com/sethvargo/go-githubactions v1.1.0
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/sethvargo/go-envconfig v0.8.0 // indirect
)
