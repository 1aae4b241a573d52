package lu

import (
	"fmt"
	"net/http"
)

// LivenessHandler reports whether the App is alive: 200 from Startup until
// it is Terminated, 503 before and after. The JSON body names the state and
// nothing else, such as {"state":"Running"}.
func (a *App) LivenessHandler() http.Handler {
	return stateHandler(a, func(s State) bool { return s >= StateStartup && s < StateTerminated })
}

// ReadinessHandler reports whether the App should receive traffic: 200
// only while it is Running and no stop has been requested, 503 otherwise
// (during start-up, while Draining and after). The JSON body names the
// state and nothing else. The processes are started as the App enters
// Running: one that must be serving before the App reports ready binds in
// its Start func, which runs during start-up (process.HTTP does).
func (a *App) ReadinessHandler() http.Handler {
	return stateHandler(a, func(s State) bool { return s == StateRunning })
}

func stateHandler(a *App, ok func(State) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := a.State()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if ok(s) {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintf(w, "{\"state\":%q}\n", s.String())
	})
}
