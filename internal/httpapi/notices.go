package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/realname/realname/internal/notice"
	"github.com/realname/realname/internal/realname"
)

// codeNoticeNotFound answers a notice version this build does not have.
const codeNoticeNotFound = "NOTICE_NOT_FOUND"

// noticeCacheControl replaces the middleware's no-store on the answers of
// the notice routes: the texts are public and fixed for a build.
var noticeCacheControl = []string{"public, max-age=300"}

// staticAnswer is an answer encoded once, with its entity tag.
type staticAnswer struct {
	body []byte
	etag []string
}

// noticeAnswers are the answers of the notice routes, encoded at start:
// the list, and each version in each language under "<version> <lang>".
var noticeAnswers = func() (a struct {
	list    staticAnswer
	notices map[string]staticAnswer
}) {
	a.list = newStaticAnswer(struct {
		Success  bool             `json:"success"`
		Current  string           `json:"current"`
		Versions []notice.Version `json:"versions"`
	}{true, notice.Current(), notice.Versions()})
	a.notices = map[string]staticAnswer{}
	for _, v := range notice.Versions() {
		for _, lang := range v.Languages {
			n, err := notice.Get(v.Version, lang)
			if err != nil {
				panic("httpapi: " + err.Error())
			}
			a.notices[v.Version+" "+lang] = newStaticAnswer(struct {
				Success bool          `json:"success"`
				Notice  notice.Notice `json:"notice"`
			}{true, n})
		}
	}
	return a
}()

func newStaticAnswer(v any) staticAnswer {
	b, err := json.Marshal(v)
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	b = append(b, '\n')
	sum := sha256.Sum256(b)
	return staticAnswer{body: b, etag: []string{`"` + hex.EncodeToString(sum[:16]) + `"`}}
}

// writeStatic writes a precomputed answer that caches may keep, or 304 when
// the caller has it already.
func writeStatic(w http.ResponseWriter, r *http.Request, a staticAnswer) {
	h := w.Header()
	h["Cache-Control"] = noticeCacheControl // replaces the middleware's no-store
	h["Etag"] = a.etag
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for t := range strings.SplitSeq(inm, ",") {
			if t = strings.TrimSpace(t); t == a.etag[0] || t == "W/"+a.etag[0] || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

// handleNotices lists the notice versions: GET /api/v1/auth/notices.
func (s *Server) handleNotices(w http.ResponseWriter, r *http.Request) {
	writeStatic(w, r, noticeAnswers.list)
}

// handleNotice answers one version's text: GET
// /api/v1/auth/notices/{version}?lang=zh|en ("current" names the current
// version; zh by default).
func (s *Server) handleNotice(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	if !notice.ValidVersionName(version) {
		renderError(w, r, s.log, realname.E(realname.KindInvalid, realname.CodeInvalidRequest,
			"a notice version is 1–32 characters of [0-9A-Za-z.-]", nil))
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "zh"
	}
	if !slices.Contains(notice.Languages, lang) {
		renderError(w, r, s.log, realname.E(realname.KindInvalid, realname.CodeInvalidRequest,
			`lang must be "zh" or "en"`, nil))
		return
	}
	if version == notice.CurrentAlias {
		version = notice.Current()
	}
	a, ok := noticeAnswers.notices[version+" "+lang]
	if !ok {
		renderError(w, r, s.log, realname.E(realname.KindNotFound, codeNoticeNotFound,
			"no such notice version; GET /api/v1/auth/notices lists them", nil))
		return
	}
	writeStatic(w, r, a)
}
