package candor

// Actor is who asks: a staff member, an API key, a partner, or Candor
// itself for a named job.
type Actor struct {
	ID   string // such as "apikey:key_…" or "job:demo"
	Role string
}
