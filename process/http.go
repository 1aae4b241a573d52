package process

import (
	"context"
	"errors"
	"net/http"

	"github.com/lu-go/lu"
)

// HTTP returns a process that serves server until the App stops. The
// process's Shutdown is the server's graceful Shutdown: it stops accepting
// connections and waits for the requests in flight, until the App's
// shutdown deadline. http.ErrServerClosed is success. It panics if server
// is nil.
func HTTP(name string, server *http.Server) lu.Process {
	if server == nil {
		panic("process: HTTP: nil server")
	}
	return lu.Process{
		Name: "http " + name,
		Run: func(context.Context) error {
			return serveUntilClosed(server.ListenAndServe())
		},
		Shutdown: server.Shutdown,
	}
}

// SecureHTTP is [HTTP] serving TLS with the certificate and key files.
func SecureHTTP(name string, server *http.Server, tlsCert, tlsKey string) lu.Process {
	if server == nil {
		panic("process: SecureHTTP: nil server")
	}
	return lu.Process{
		Name: "https " + name,
		Run: func(context.Context) error {
			return serveUntilClosed(server.ListenAndServeTLS(tlsCert, tlsKey))
		},
		Shutdown: server.Shutdown,
	}
}

func serveUntilClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
