package notice

import (
	"strings"
	"testing"
	"testing/fstest"
)

const goodZH = `{"version":"v1","lang":"zh","published":"2026-01-01","title":"标题",
"sections":[{"heading":"一","text":"正文"}],"consents":{"id_number":"同意一","face":"同意二"}}
`

func goodEN() string { return strings.Replace(goodZH, `"lang":"zh"`, `"lang":"en"`, 1) }

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"t/v1.zh.json": {Data: []byte(goodZH)},
		"t/v1.en.json": {Data: []byte(goodEN())},
		"t/v2.zh.json": {Data: []byte(strings.NewReplacer(`"v1"`, `"v2"`, "2026-01-01", "2026-02-01").Replace(goodZH))},
		"t/v2.en.json": {Data: []byte(strings.NewReplacer(`"v1"`, `"v2"`, "2026-01-01", "2026-02-01").Replace(goodEN()))},
	}
	c, err := load(fsys, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.versions) != 2 || c.versions[0].Version != "v1" || c.versions[1].Version != "v2" {
		t.Errorf("versions %+v", c.versions)
	}
}

func TestLoadRejects(t *testing.T) {
	edit := func(old, new string) string { return strings.Replace(goodZH, old, new, 1) }
	for name, tc := range map[string]struct {
		file, zh string
		en       *string
		want     string
	}{
		"no en":          {file: "v1.zh.json", zh: goodZH, want: "no en text"},
		"bom":            {file: "v1.zh.json", zh: "\xef\xbb\xbf" + goodZH, want: "canonical"},
		"crlf":           {file: "v1.zh.json", zh: strings.ReplaceAll(goodZH, "\n", "\r\n"), want: "canonical"},
		"bad utf-8":      {file: "v1.zh.json", zh: edit("标题", "\xff"), want: "canonical"},
		"name mismatch":  {file: "v1.zh.json", zh: edit(`"v1"`, `"v9"`), want: "its name says"},
		"bad lang":       {file: "v1.fr.json", zh: goodZH, want: "language"},
		"bad version":    {file: "v_1.zh.json", zh: goodZH, want: "version"},
		"no dot":         {file: "v1.json", zh: goodZH, want: "<version>.<lang>"},
		"bad date":       {file: "v1.zh.json", zh: edit("2026-01-01", "2026-13-01"), want: "published"},
		"no title":       {file: "v1.zh.json", zh: edit(`"标题"`, `" "`), want: "no title"},
		"no sections":    {file: "v1.zh.json", zh: edit(`[{"heading":"一","text":"正文"}]`, `[]`), want: "no sections"},
		"empty text":     {file: "v1.zh.json", zh: edit(`"正文"`, `""`), want: "section 1"},
		"no face":        {file: "v1.zh.json", zh: edit(`,"face":"同意二"`, ``), want: `scope "face"`},
		"extra scope":    {file: "v1.zh.json", zh: edit(`"face":"同意二"`, `"face":"同意二","x":"y"`), want: "other than"},
		"unknown field":  {file: "v1.zh.json", zh: edit(`"title"`, `"extra":1,"title"`), want: "unknown field"},
		"trailing data":  {file: "v1.zh.json", zh: goodZH + "{}", want: "after the JSON"},
		"dates disagree": {file: "v1.zh.json", zh: edit("2026-01-01", "2026-01-02"), want: "another language"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{"t/" + tc.file: {Data: []byte(tc.zh)}}
			if name != "no en" {
				fsys["t/v1.en.json"] = &fstest.MapFile{Data: []byte(goodEN())}
			}
			_, err := load(fsys, "t")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := load(fstest.MapFS{}, "t"); err == nil {
		t.Error("an empty directory loads")
	}
}
