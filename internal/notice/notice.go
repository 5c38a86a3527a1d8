package notice

import (
	"embed"
	"errors"
	"fmt"
	"slices"
)

//go:embed texts/*.json
var texts embed.FS

// The scopes of a separate consent, as a consent names them
// (realname.ScopeIDNumber and realname.ScopeFace).
const (
	ScopeIDNumber = "id_number"
	ScopeFace     = "face"
)

// Scopes lists the consent scopes every notice has a checkbox text for.
var Scopes = []string{ScopeIDNumber, ScopeFace}

// Languages lists the languages every version exists in.
var Languages = []string{"zh", "en"}

// Version describes one version of the notice.
type Version struct {
	Version   string   `json:"version"`
	Published string   `json:"published"` // YYYY-MM-DD
	Languages []string `json:"languages"`
}

// Section is one part of a notice: a heading and its plain text (a line
// break separates paragraphs).
type Section struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// Notice is one version of the notice in one language.
type Notice struct {
	Version  string    `json:"version"`
	Lang     string    `json:"lang"`
	Title    string    `json:"title"`
	Sections []Section `json:"sections"`
	// Consents are the checkbox texts of the separate consents, by scope
	// (ScopeIDNumber, ScopeFace).
	Consents map[string]string `json:"consents"`
	// SHA256 is the hex SHA-256 of the text's file, byte for byte.
	SHA256 string `json:"sha256"`
}

// Errors of Get, wrapped in a *LookupError.
var (
	ErrUnknownVersion  = errors.New("unknown notice version")
	ErrUnknownLanguage = errors.New("unknown notice language")
)

// LookupError says which version or language Get does not have. Its Err is
// ErrUnknownVersion or ErrUnknownLanguage.
type LookupError struct {
	Version, Lang string
	Err           error
}

func (e *LookupError) Error() string {
	return fmt.Sprintf("notice %q (%q): %v", e.Version, e.Lang, e.Err)
}

func (e *LookupError) Unwrap() error { return e.Err }

// CurrentAlias names the current version in Get.
const CurrentAlias = "current"

// loaded is the catalogue of the embedded texts, checked at start.
var loaded = mustLoad()

func mustLoad() *catalog {
	c, err := load(texts, "texts")
	if err != nil {
		panic("notice: the embedded texts are invalid: " + err.Error())
	}
	return c
}

// Versions lists the versions, oldest first.
func Versions() []Version {
	out := make([]Version, len(loaded.versions))
	for i, v := range loaded.versions {
		v.Languages = slices.Clone(v.Languages)
		out[i] = v
	}
	return out
}

// Current is the version a new consent should accept: the newest one.
func Current() string { return loaded.versions[len(loaded.versions)-1].Version }

// Get returns a version (or CurrentAlias) in a language. An unknown version
// or language is a *LookupError.
func Get(version, lang string) (Notice, error) {
	if version == CurrentAlias {
		version = Current()
	}
	byLang, ok := loaded.notices[version]
	if !ok {
		return Notice{}, &LookupError{Version: version, Lang: lang, Err: ErrUnknownVersion}
	}
	n, ok := byLang[lang]
	if !ok {
		return Notice{}, &LookupError{Version: version, Lang: lang, Err: ErrUnknownLanguage}
	}
	n.Sections = slices.Clone(n.Sections)
	cs := make(map[string]string, len(n.Consents))
	for k, v := range n.Consents {
		cs[k] = v
	}
	n.Consents = cs
	return n, nil
}
