module github.com/lu-go/lu/examples/service

go 1.26.0

require (
	github.com/lu-go/lu v0.0.0
	github.com/lu-go/lu/systemd v0.0.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	k8s.io/utils v0.0.0-20261023123148-ca04ba58ecab
)

require (
	github.com/coreos/go-systemd/v22 v22.7.0 // indirect
	github.com/qmuntal/stateless v1.7.2 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace (
	github.com/lu-go/lu => ../..
	github.com/lu-go/lu/systemd => ../../systemd
)
