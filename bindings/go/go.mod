module liboidc.dev/oidc

go 1.24
