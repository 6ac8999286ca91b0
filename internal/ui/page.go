package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// page is the dashboard: index.html with style.css and app.js inlined, so that one request
// (the only one that may carry the token in its URL) loads everything, and its Content
// Security Policy, which lets the page run only its own script and style and talk only to
// this server.
var page, pageCSP = buildPage()

// buildPage inlines the assets into the page and hashes them for the policy.
func buildPage() ([]byte, string) {
	read := func(name string) string {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic("ui: embedded asset missing: " + name) // a build without its assets
		}
		return string(b)
	}
	css, js := read("style.css"), read("app.js")
	html := strings.NewReplacer("/*STYLE*/", css, "/*SCRIPT*/", js).Replace(read("index.html"))
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	csp := "default-src 'none'; connect-src 'self'; img-src 'self' data:; " +
		"script-src " + hash(js) + "; style-src " + hash(css) + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return []byte(html), csp
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	w.Write(page)
}
