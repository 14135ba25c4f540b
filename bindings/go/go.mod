module github.com/liboidc/liboidc/bindings/go

go 1.24
