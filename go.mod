module github.com/lu-go/lu

go 1.26.0

require (
	github.com/qmuntal/stateless v1.7.2
	golang.org/x/sync v0.25.0
	k8s.io/utils v0.0.0-20261023123148-ca04ba58ecab
)
