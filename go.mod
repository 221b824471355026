module github.com/koha-webhooks/koha-webhooks

go 1.26.8

require (
	github.com/go-sql-driver/mysql v1.10.2
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/crypto v0.59.0
	golang.org/x/oauth2 v0.38.0
)

require filippo.io/edwards25519 v1.2.0 // indirect
