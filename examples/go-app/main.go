// A Go buildpack app (no Dockerfile, no Procfile): the module's main package is built into bin/hello-go,
// which the buildpack makes the web process. Standard library only, so it builds without a module proxy.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	greeting := os.Getenv("GREETING")
	if greeting == "" {
		greeting = "Hello"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s from a Go app on Pier\n", greeting)
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "built with %s\n", runtime.Version())
	})
	server := &http.Server{Addr: "0.0.0.0:" + port, Handler: mux}

	// SIGTERM drains in-flight requests before the process exits, as Pier's stop expects.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		server.Shutdown(context.Background())
	}()
	if err := server.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
