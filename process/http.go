package process

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/lu-go/lu"
)

// HTTP returns a process that serves server until the App stops; see
// [HTTPServer] for how it starts and stops. It is
// NewHTTPServer(name, server).Process(). It panics if server is nil.
func HTTP(name string, server *http.Server) lu.Process {
	if server == nil {
		panic("process: HTTP: nil server")
	}
	return NewHTTPServer(name, server).Process()
}

// SecureHTTP is [HTTP] serving TLS with the certificate and key files: it
// is NewHTTPServer(name, server, WithTLS(tlsCert, tlsKey)).Process().
func SecureHTTP(name string, server *http.Server, tlsCert, tlsKey string) lu.Process {
	if server == nil {
		panic("process: SecureHTTP: nil server")
	}
	return NewHTTPServer(name, server, WithTLS(tlsCert, tlsKey)).Process()
}

// HTTPServer runs an *http.Server as a process of an App:
//  1. Start, during the App's start-up, listens on the server's Addr (":http",
//     or ":https" with TLS, when empty) unless [WithListener] gave a
//     listener, and loads the TLS certificate, so that a port in use or a
//     bad certificate fails Launch with an error naming it, and readiness
//     never reports a server that could not bind;
//  2. Run serves on that listener until the App stops;
//  3. Shutdown, when the App stops, shuts the server down gracefully: it
//     stops accepting connections and waits for the requests in flight
//     until the App's shutdown deadline, less a tenth of the time left (at
//     most a second) to close in; if they have not finished by then, it
//     closes the server, cancelling their contexts and closing their
//     connections, and returns an error wrapping
//     context.DeadlineExceeded. Run returns only once Shutdown has, so no
//     request is served after the process ended.
//
// To cancel the requests' contexts when it closes, Start wraps the
// server's BaseContext (the one given, if any, stays their parent).
// If Start succeeded but Run never began (a later start-up step failed),
// Shutdown closes the listener. Hijacked connections (WebSockets, say) are
// their handlers' to close, as with http.Server: register that with the
// server's RegisterOnShutdown. http.ErrServerClosed is success. An
// HTTPServer runs once, as an http.Server does; make one per App.
//
// [HTTPServer.Addr] is the address it listens on once bound (the port
// chosen for ":0"), and [HTTPServer.WaitServing] waits until it serves
// there, or says why it never will; tests call it through
// lutest.WaitServing.
type HTTPServer struct {
	name     string
	server   *http.Server
	tls      bool
	certFile string
	keyFile  string

	mu       sync.Mutex
	ln       net.Listener         // bound by Start or given; the process owns it from Start on
	started  bool                 // Start succeeded
	cancels  []context.CancelFunc // of the base contexts of the server's requests
	phase    httpPhase            // for WaitServing
	startErr error                // why Start failed, in phase httpFailed

	settled      chan struct{} // closed when phase leaves httpIdle; see settleLocked
	stopping     chan struct{} // closed when Shutdown begins
	stopped      chan struct{} // closed when Shutdown has returned
	stoppingOnce sync.Once
	stoppedOnce  sync.Once
}

// httpPhase is where an HTTPServer is, as WaitServing reports it. It only
// moves forward, in the order of the constants; httpFailed is final.
type httpPhase int

const (
	httpIdle    httpPhase = iota // not serving yet
	httpServing                  // Run serves on the listener
	httpEnded                    // Shutdown began or Run returned, before or after serving
	httpFailed                   // Start failed; startErr says why
)

// HTTPOption configures an [HTTPServer].
type HTTPOption func(*HTTPServer)

// WithListener serves on ln instead of listening on the server's Addr,
// which is then ignored. The process owns ln from Start on, and closes it
// when it stops; if the App never called Start (a start hook failed), ln
// is still the caller's to close. A listener of the net package that is
// closed already fails Start, naming its address; a listener that hides
// its file descriptor (one from tls.NewListener, say) cannot be checked,
// and a closed one fails only when Run serves on it.
func WithListener(ln net.Listener) HTTPOption {
	return func(h *HTTPServer) { h.ln = ln }
}

// WithTLS serves TLS with the certificate and key files, loaded at Start
// to check them. Both may be empty when the server's TLSConfig holds the
// certificates.
func WithTLS(certFile, keyFile string) HTTPOption {
	return func(h *HTTPServer) { h.tls, h.certFile, h.keyFile = true, certFile, keyFile }
}

// NewHTTPServer returns an HTTPServer for server, named "http <name>" (or
// "https <name>" with TLS) in events, logs and errors. A nil server, or a
// nil option, has no meaning: it panics, naming it.
func NewHTTPServer(name string, server *http.Server, opts ...HTTPOption) *HTTPServer {
	if server == nil {
		panic("process: NewHTTPServer: nil server")
	}
	h := &HTTPServer{server: server, settled: make(chan struct{}), stopping: make(chan struct{}), stopped: make(chan struct{})}
	for i, opt := range opts {
		if opt == nil {
			panic(fmt.Sprintf("process: NewHTTPServer: nil HTTPOption (option %d)", i+1))
		}
		opt(h)
	}
	h.name = "http " + name
	if h.tls {
		h.name = "https " + name
	}
	return h
}

// Process returns the lu.Process to add to the App. Call it once.
func (h *HTTPServer) Process() lu.Process {
	return lu.Process{Name: h.name, Start: h.start, Run: h.run, Shutdown: h.shutdown}
}

// Addr returns the address the server listens on, such as the port chosen
// for an Addr of ":0": nil until Start has bound it (the address of a
// listener given with [WithListener] is known from the start).
func (h *HTTPServer) Addr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return nil
	}
	return h.ln.Addr()
}

// WaitServing waits until Run serves on the listener that Start bound, and
// returns the listener's address: requests sent to it from then on are
// served. It returns an error naming the server, without waiting further,
// when Start failed (wrapping Start's error, such as a port in use), when
// the server stopped (Shutdown began, or Run returned) before serving or
// since, and when ctx ends first (wrapping its cause). It may be called
// from any goroutine, before Launch included, and any number of times.
func (h *HTTPServer) WaitServing(ctx context.Context) (net.Addr, error) {
	if h == nil {
		return nil, errors.New("process: WaitServing on a nil *HTTPServer")
	}
	select {
	case <-h.settled: // settled already: say so, even if ctx has ended too
	default:
		select {
		case <-h.settled:
		case <-ctx.Done():
			return nil, fmt.Errorf("process: %s not serving yet: %w", h.name, context.Cause(ctx))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.phase {
	case httpFailed:
		return nil, fmt.Errorf("process: %s could not start: %w", h.name, h.startErr)
	case httpEnded:
		return nil, fmt.Errorf("process: %s has stopped", h.name)
	}
	return h.ln.Addr(), nil
}

// settleLocked moves the server forward to phase p (never back), and wakes
// WaitServing.
func (h *HTTPServer) settleLocked(p httpPhase) {
	if h.phase == httpIdle {
		close(h.settled)
	}
	if p > h.phase {
		h.phase = p
	}
}

// start checks the certificate and binds the listener, and records a
// failure for WaitServing. The App calls it during start-up; run calls it
// too, for a process run without an App.
func (h *HTTPServer) start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return nil
	}
	if err := h.bindLocked(ctx); err != nil {
		if h.phase == httpIdle {
			h.startErr = err
			h.settleLocked(httpFailed)
		}
		return err
	}
	h.started = true
	return nil
}

// bindLocked does start's work.
func (h *HTTPServer) bindLocked(ctx context.Context) error {
	if h.tls && h.certFile == "" && h.keyFile == "" && !hasCertificates(h.server.TLSConfig) {
		return errors.New("no TLS certificate: give its files, or set the server's TLSConfig")
	}
	if h.tls && (h.certFile != "" || h.keyFile != "") {
		if _, err := tls.LoadX509KeyPair(h.certFile, h.keyFile); err != nil {
			if _, named := errors.AsType[*fs.PathError](err); named {
				return fmt.Errorf("loading the TLS certificate: %w", err)
			}
			return fmt.Errorf("loading the TLS certificate %s and key %s: %w", h.certFile, h.keyFile, err)
		}
	}
	if h.ln != nil {
		if err := checkListener(h.ln); err != nil {
			return err
		}
	} else {
		ln, err := new(net.ListenConfig).Listen(ctx, "tcp", listenAddr(h.server.Addr, h.tls))
		if err != nil {
			return err // "listen tcp 127.0.0.1:8080: bind: address already in use"
		}
		h.ln = ln
	}
	base := h.server.BaseContext
	h.server.BaseContext = func(ln net.Listener) context.Context {
		ctx := context.Background()
		if base != nil {
			if ctx = base(ln); ctx == nil {
				return nil // net/http reports it
			}
		}
		ctx, cancel := context.WithCancel(ctx)
		h.mu.Lock()
		h.cancels = append(h.cancels, cancel)
		h.mu.Unlock()
		return ctx
	}
	return nil
}

// close closes the server (its listeners and connections), then cancels
// the requests' contexts. In that order: a handler that returns once its
// context is cancelled must not have its response reach the client as if
// it had succeeded.
func (h *HTTPServer) close() {
	_ = h.server.Close()
	h.mu.Lock()
	cancels := h.cancels
	h.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// hasCertificates reports whether cfg provides a certificate, as ServeTLS
// requires when it is given no files.
func hasCertificates(cfg *tls.Config) bool {
	return cfg != nil && (len(cfg.Certificates) > 0 || cfg.GetCertificate != nil || cfg.GetConfigForClient != nil)
}

// listenAddr is the address ListenAndServe would listen on.
func listenAddr(addr string, tls bool) string {
	switch {
	case addr != "":
		return addr
	case tls:
		return ":https"
	}
	return ":http"
}

func (h *HTTPServer) run(ctx context.Context) error {
	if err := h.start(ctx); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	// Without an App, nothing calls Shutdown: the end of ctx closes the
	// server. With one, Shutdown has come first.
	defer context.AfterFunc(ctx, h.close)()
	h.mu.Lock()
	ln := h.ln
	h.settleLocked(httpServing)
	h.mu.Unlock()
	defer h.ended()
	var err error
	if h.tls {
		err = h.server.ServeTLS(ln, h.certFile, h.keyFile)
	} else {
		err = h.server.Serve(ln)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	select {
	case <-h.stopping: // closed by Shutdown: return once it has finished
		select {
		case <-h.stopped:
		case <-ctx.Done():
		}
	default: // closed by its owner, outside lu
	}
	return nil
}

// ended records, for WaitServing, that the server no longer serves.
func (h *HTTPServer) ended() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settleLocked(httpEnded)
}

func (h *HTTPServer) shutdown(ctx context.Context) error {
	h.stoppingOnce.Do(func() { close(h.stopping) })
	h.ended()
	defer h.stoppedOnce.Do(func() { close(h.stopped) })
	graceful, cancel := gracefulContext(ctx)
	defer cancel()
	err := h.server.Shutdown(graceful)
	// Serve closes the listener it was given; one that never reached
	// Serve (Run never began) is closed here.
	h.mu.Lock()
	if h.ln != nil {
		_ = h.ln.Close()
	}
	h.mu.Unlock()
	if err != nil {
		h.close()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("graceful shutdown did not finish in time, server closed: %w", err)
		}
		return fmt.Errorf("graceful shutdown interrupted, server closed: %w", err)
	}
	return nil
}

// gracefulContext returns ctx ending a little before its deadline: a
// tenth of the time left, at most a second, for closing the server.
func gracefulContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(deadline)/10, time.Second)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// checkListener returns an error, naming its address, if ln (given with
// WithListener) can no longer accept because it was closed: the App must
// not report ready for a server that cannot serve. It can tell only for
// listeners with a file descriptor (syscall.Conn), which the net
// package's are.
func checkListener(ln net.Listener) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err == nil {
		err = rc.Control(func(uintptr) {})
	}
	if err != nil {
		return fmt.Errorf("the listener given on %s cannot accept: %w", ln.Addr(), err)
	}
	return nil
}
