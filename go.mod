module github.com/lu-go/lu

go 1.26.0

require (
	github.com/qmuntal/stateless v1.7.2
	github.com/robfig/cron/v3 v3.0.1
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.25.0
	golang.org/x/sys v0.49.0
	k8s.io/utils v0.0.0-20261023123148-ca04ba58ecab
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
