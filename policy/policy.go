// Package policy loads and checks candor.yaml, the policy file that declares
// every purpose, field, event, recipient, retention period and role Candor
// may use, and builds from it the privacy notice people see.
//
// [Parse] walks the YAML node tree itself, so that every [Finding] names the
// line it is about, and it reports every problem it finds, not only the
// first. A policy with findings must not be used. [NewNotice] turns a checked
// policy into the versioned, hashed [Notice].
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/candorhq/candor"
	"go.yaml.in/yaml/v3"
)

// maxFileSize is the largest policy file Parse reads.
const maxFileSize = 1 << 20

// Finding is one problem in a policy file.
type Finding struct {
	File    string
	Line    int
	Message string
}

// String formats f as "FILE:LINE: message", the form editors and CI
// systems link to.
func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message) }

// Load reads the policy file at path and calls [Parse]. The error is only
// for I/O errors; problems in the file are findings.
func Load(path string) (*candor.Policy, []Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("policy: read %s: %w", path, err)
	}
	p, findings := Parse(path, data)
	return p, findings, nil
}

// Parse parses and checks a policy. It returns the policy (nil if it could
// not be built at all) and every finding, in line order. A policy with
// findings must not be used. file names the policy in findings and becomes
// the policy's Source.
func Parse(file string, data []byte) (*candor.Policy, []Finding) {
	c := &checker{file: file}
	if len(data) > maxFileSize {
		c.at(1, "the file is larger than 1 MiB; a policy must be smaller")
		return nil, c.sorted()
	}
	root := c.decode(data)
	if root == nil {
		return nil, c.sorted()
	}
	c.screen(root)
	p := c.policy(root)
	return p, c.sorted()
}

// checker collects findings while it walks one policy file.
type checker struct {
	file     string
	findings []Finding
}

func (c *checker) at(line int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	c.findings = append(c.findings, Finding{File: c.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// errf adds a finding at the line of n.
func (c *checker) errf(n *yaml.Node, format string, args ...any) {
	line := 1
	if n != nil {
		line = n.Line
	}
	c.at(line, format, args...)
}

// sorted returns the findings in line order, without repeats.
func (c *checker) sorted() []Finding {
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Line < c.findings[j].Line })
	out := c.findings[:0]
	seen := map[Finding]bool{}
	for _, f := range c.findings {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decode parses data as one YAML document and returns its top node, or nil
// when there is nothing to check.
func (c *checker) decode(data []byte) (top *yaml.Node) {
	defer func() {
		// The YAML library must never take the process down with it.
		if r := recover(); r != nil {
			c.at(1, "the file is not valid YAML")
			top = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.at(1, "the file is empty: a policy needs at least organization and purposes")
		} else {
			c.yamlError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		c.errf(&extra, "the file holds more than one YAML document; a policy is one document")
	case !errors.Is(err, io.EOF):
		c.yamlError(data, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		c.at(1, "the file is empty: a policy needs at least organization and purposes")
		return nil
	}
	return doc.Content[0]
}

// parserError reports whether msg is one of the YAML parser's (rather than
// its scanner's) problems.
func parserError(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>", "did not find expected <document start>",
		"did not find expected node content", "did not find expected '-' indicator",
		"did not find expected key", "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"found undefined tag handle", "found duplicate %YAML directive", "found incompatible YAML document",
		"found duplicate %TAG directive":
		return true
	}
	return false
}

var yamlAnchor = regexp.MustCompile(`anchor '([^']*)'`)

func (c *checker) yamlError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		// The YAML library counts lines from 0 in parser errors (but
		// not in scanner errors); those name the line where the
		// unfinished construct began.
		if parserError(msg) {
			line++
			msg += "; the problem is inside the list or mapping that begins on this line"
		}
	} else if m := yamlAnchor.FindStringSubmatch(msg); m != nil {
		// Anchor errors carry no line: find the alias.
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
		}
	}
	c.at(line, "not valid YAML: %s", msg)
}

// screen reports what the policy format does not allow anywhere: aliases
// (the stuff YAML bombs are made of) and custom tags.
func (c *checker) screen(n *yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		c.errf(n, "aliases are not allowed (*%s): write the value out", short(n.Value))
		return
	case yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode:
		switch tag := n.ShortTag(); tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!map", "!!seq", "!!merge":
		default:
			c.errf(n, "the tag %s is not allowed: write plain values", short(tag))
		}
	}
	for _, k := range n.Content {
		c.screen(k)
	}
}

// object is a checked YAML mapping.
type object struct {
	node *yaml.Node
	keys map[string]*yaml.Node // key → key node
	vals map[string]*yaml.Node // key → value node
	// order is the keys in file order, without repeats.
	order []string
}

// get returns the value node of key, or nil.
func (o *object) get(key string) *yaml.Node {
	if o == nil {
		return nil
	}
	return o.vals[key]
}

// object checks that n is a mapping with only the allowed keys (any key when
// allowed is nil), each once, and returns it; nil if n is not a mapping.
func (c *checker) object(n *yaml.Node, what string, allowed []string) *object {
	if !c.kind(n, yaml.MappingNode, what) {
		return nil
	}
	o := &object{node: n, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			continue // reported by screen
		}
		if k.Kind != yaml.ScalarNode {
			c.errf(k, "%s: a key must be a plain word, not %s", what, kindName(k))
			continue
		}
		key := k.Value
		if first, ok := o.keys[key]; ok {
			c.errf(k, "%s: duplicate key %q (first on line %d)", what, short(key), first.Line)
			continue
		}
		o.keys[key], o.vals[key] = k, v
		o.order = append(o.order, key)
		if allowed != nil && !slices.Contains(allowed, key) {
			c.errf(k, "%s: unknown key %q (allowed: %s)", what, short(key), strings.Join(allowed, ", "))
		}
	}
	return o
}

// kind checks that n is of kind k. A missing node, an alias (reported by
// screen) or a node of another kind is false; only the last is reported.
func (c *checker) kind(n *yaml.Node, k yaml.Kind, what string) bool {
	if n == nil || n.Kind == yaml.AliasNode {
		return false
	}
	if n.Kind == k {
		return true
	}
	want := map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}[k]
	if isNull(n) {
		c.errf(n, "%s is empty; want %s", what, want)
	} else {
		c.errf(n, "%s must be %s, not %s", what, want, kindName(n))
	}
	return false
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// kindName describes what n is, for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "empty"
		case "!!bool":
			return "true or false"
		case "!!int", "!!float":
			return "a number"
		}
		return "a text"
	}
	return "a document"
}

// text returns the trimmed text of the scalar n. It reports n when it is
// not a scalar, empty, or true/false (which YAML reads as a boolean).
func (c *checker) text(n *yaml.Node, what string) (string, bool) {
	if !c.kind(n, yaml.ScalarNode, what) {
		return "", false
	}
	switch n.ShortTag() {
	case "!!null":
		c.errf(n, "%s is empty", what)
		return "", false
	case "!!bool":
		c.errf(n, "%s must be a text, not true or false; put it in quotes if you mean the word", what)
		return "", false
	}
	s := strings.TrimSpace(n.Value)
	if s == "" {
		c.errf(n, "%s is empty", what)
		return "", false
	}
	return s, true
}

// boolean returns the value of the boolean scalar n.
func (c *checker) boolean(n *yaml.Node, what string) (bool, bool) {
	if n == nil || !c.kind(n, yaml.ScalarNode, what) {
		return false, false
	}
	if n.ShortTag() == "!!bool" {
		switch strings.ToLower(n.Value) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	v := strings.ToLower(n.Value)
	c.errf(n, "%s must be true or false, not %s%s", what, describe(n), unquote(n, v == "true" || v == "false"))
	return false, false
}

// integer returns the value of the integer scalar n.
func (c *checker) integer(n *yaml.Node, what string) (int, bool) {
	if !c.kind(n, yaml.ScalarNode, what) {
		return 0, false
	}
	if n.ShortTag() == "!!int" {
		if v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 32); err == nil {
			return int(v), true
		}
	}
	_, err := strconv.Atoi(n.Value)
	c.errf(n, "%s must be a whole number, not %s%s", what, describe(n), unquote(n, err == nil))
	return 0, false
}

// unquote advises against quotes around a value that would otherwise be
// what is wanted.
func unquote(n *yaml.Node, wanted bool) string {
	if wanted && n.Kind == yaml.ScalarNode && n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		return " (write it without quotes)"
	}
	return ""
}

// describe names the value of a scalar for a message, or its kind.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return strconv.Quote(short(n.Value))
	}
	return kindName(n)
}

// list returns the items of the sequence n.
func (c *checker) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	if !c.kind(n, yaml.SequenceNode, what) {
		return nil, false
	}
	return n.Content, true
}

// ref is a reference by id to something declared elsewhere in the file.
type ref struct {
	id   string
	node *yaml.Node
}

// refs returns the texts of the list n, reporting repeats. required reports
// an empty list.
func (c *checker) refs(n *yaml.Node, what string, required bool) []ref {
	items, ok := c.list(n, what)
	if !ok {
		return nil
	}
	if len(items) == 0 && required {
		c.errf(n, "%s is an empty list", what)
	}
	var out []ref
	seen := map[string]int{}
	for _, it := range items {
		s, ok := c.text(it, what+" item")
		if !ok {
			continue
		}
		if line, dup := seen[s]; dup {
			c.errf(it, "%s: %q is listed twice (first on line %d)", what, short(s), line)
			continue
		}
		seen[s] = it.Line
		out = append(out, ref{s, it})
	}
	return out
}

// short cuts s for a message.
func short(s string) string {
	if utf8.RuneCountInString(s) <= 64 {
		return s
	}
	r := []rune(s)
	return string(r[:64]) + "…"
}

// validID reports whether s is a valid id of a purpose, field, recipient or
// role: lower-case letters, digits, dots, underscores and hyphens, starting
// with a letter or digit, at most 64 bytes.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
		case (ch == '.' || ch == '_' || ch == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validPropertyName reports whether s may name an event property.
func validPropertyName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// plainText reports whether s holds no control characters.
func plainText(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// validEmail is a loose check of an e-mail address.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.ContainsAny(s, " \t<>,;\"") && !strings.Contains(domain, "@") &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validURL reports whether s is an absolute http or https URL.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t")
}

// suggest returns ` (did you mean "x"?)` for the known id nearest to s, if
// one is near.
func suggest(s string, known []string) string {
	if len(known) > 500 || len(s) > 64 {
		return "" // not worth the time
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(s, k); d < bestD && 3*d <= len(s) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, capped for long
// input.
func distance(a, b string) int {
	if len(a) > 100 || len(b) > 100 {
		return 100
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
