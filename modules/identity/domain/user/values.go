package user

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Email is a normalised (trimmed, lower-case) e-mail address.
type Email struct{ s string }

var ErrInvalidEmail = errs.Invalid("invalid_email", "email", "e-mail address is not valid")

// EmailFromString validates and normalises s.
func EmailFromString(s string) (Email, error) {
	// Check UTF-8 first: ToLower turns invalid bytes into U+FFFD.
	if !utf8.ValidString(s) {
		return Email{}, ErrInvalidEmail
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return Email{}, ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return Email{}, ErrInvalidEmail
	}
	return Email{s}, nil
}

func (e Email) String() string { return e.s }
func (e Email) IsZero() bool   { return e.s == "" }

// Phone is a phone number in E.164 form (+ and up to 15 digits); the zero value means none.
type Phone struct{ s string }

var (
	ErrInvalidPhone = errs.Invalid("invalid_phone", "phone", "phone must be in E.164 form, e.g. +821012345678")
	e164            = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// PhoneFromString validates s; "" is no phone.
func PhoneFromString(s string) (Phone, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Phone{}, nil
	}
	if !e164.MatchString(s) {
		return Phone{}, ErrInvalidPhone
	}
	return Phone{s}, nil
}

func (p Phone) String() string { return p.s }
func (p Phone) IsZero() bool   { return p.s == "" }

// Locale is the user's language for messages: "ko" (default) or "en".
type Locale struct{ s string }

var (
	LocaleKorean  = Locale{"ko"}
	LocaleEnglish = Locale{"en"}

	ErrInvalidLocale = errs.Invalid("invalid_locale", "locale", "locale must be ko or en")
)

func LocaleFromString(s string) (Locale, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ko", "":
		return LocaleKorean, nil
	case "en":
		return LocaleEnglish, nil
	}
	return Locale{}, ErrInvalidLocale
}

func (l Locale) String() string { return l.s }

// CheckName checks a display name (1–100 characters after trimming), so
// callers can reject it before expensive work such as hashing a password.
func CheckName(s string) error {
	_, err := validName(s)
	return err
}

// validName checks a display name: 1–100 characters.
func validName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || s == "" {
		return "", ErrNameRequired
	}
	if utf8.RuneCountInString(s) > 100 {
		return "", ErrNameTooLong
	}
	return s, nil
}

var (
	ErrNameRequired = errs.Invalid("name_required", "name", "name is required")
	ErrNameTooLong  = errs.Invalid("name_too_long", "name", "name is at most 100 characters")
)
