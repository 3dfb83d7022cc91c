// There is no Go code in deploy/aws. This file only makes deploy/aws a module
// of its own, so that the root module's ./... never walks into
// deploy/aws/node_modules, where aws-cdk ships Go project templates.
module github.com/taskd/taskd/deploy/aws

go 1.26.8
