// Package notice holds the texts of the consent notice: what a person reads
// and accepts before realname processes their ID number and face. Each
// version exists in Chinese and English as one embedded JSON file,
// texts/<version>.<lang>.json, with a fixed structure (a title, ordered
// sections of heading and text, and the two separate-consent checkbox
// texts). The API serves them so that a page shows exactly the text the
// person consents to, and a consent names the version it accepted.
//
// A notice's SHA256 is the hash of its file's bytes, so a platform can keep
// which exact text was shown. A published text therefore never changes:
// a new text is a new version (and a new entry in
// realname.KnownNoticeVersions). The texts are checked when the package
// loads; a broken or incomplete text stops the program at start.
package notice
