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

// unauthorizedScript and unauthorizedPage are what GET / without the token gets (with status 401): after a reload
// the address no longer holds the token, so its script puts back the one the tab keeps; a
// token that was refused is forgotten instead.
const unauthorizedScript = `const t = sessionStorage.getItem("pipectl-token");
if (new URLSearchParams(location.search).has("token")) sessionStorage.removeItem("pipectl-token");
else if (t) location.replace("/?token=" + encodeURIComponent(t) + location.hash);`

var unauthorizedPage = []byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pipectl dashboard</title></head>
<body><p>This dashboard needs its token: open it as <code>/?token=&lt;token&gt;</code>.</p>
<script>` + unauthorizedScript + `</script></body></html>
`)

// writeUnauthorizedPage answers GET / without the token.
func writeUnauthorizedPage(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src "+sourceHash(unauthorizedScript))
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(unauthorizedPage)
}

// sourceHash is the CSP source expression of an inline script or style.
func sourceHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

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
	csp := "default-src 'none'; connect-src 'self'; img-src 'self' data:; " +
		"script-src " + sourceHash(js) + "; style-src " + sourceHash(css) + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return []byte(html), csp
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	w.Write(page)
}
