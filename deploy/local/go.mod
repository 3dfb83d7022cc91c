// There is no Go code in deploy/local. This file only makes deploy/local a
// module of its own, so that the root module's ./... (go vet, go test) never
// walks into deploy/local/node_modules, where npm packages may ship .go files.
module github.com/taskd/taskd/deploy/local

go 1.26.8
