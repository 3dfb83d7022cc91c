package user_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/errs"
)

func TestEmailFromString(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254 bytes
	tests := []struct {
		in   string
		want string // "" → rejected
	}{
		{"alice@example.com", "alice@example.com"},
		{"  Alice@Example.COM\t", "alice@example.com"},
		{"first.last+tag@sub.example.co.kr", "first.last+tag@sub.example.co.kr"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{long, long},
		{long + "m", ""},
		{"", ""},
		{"   ", ""},
		{"alice", ""},
		{"alice@", ""},
		{"@example.com", ""},
		{"alice@localhost", ""},
		{"alice@example.", ""},
		{"alice@.com", ""},
		{"alice@@example.com", ""},
		{"a@b@example.com", ""},
		{"al ice@example.com", ""},
		{".alice@example.com", ""},
		{"al..ice@example.com", ""},
		{"Alice <alice@example.com>", ""},
		{"<alice@example.com>", ""},
		{`"alice"@example.com`, ""},
		{"alice(x)@example.com", ""},
		{"alice@example.com, bob@example.com", ""},
		{"alice\xff@example.com", ""},
		{"\xc3\x28@example.com", ""},
		{"alice@exa\xffmple.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := user.EmailFromString(tt.in)
			if tt.want == "" {
				if !errors.Is(err, user.ErrInvalidEmail) || !got.IsZero() {
					t.Fatalf("EmailFromString(%q) = %q, %v; want rejection", tt.in, got, err)
				}
				if e, _ := errs.As(err); e.Kind != errs.KindInvalid || e.Field != "email" {
					t.Errorf("kind, field = %v, %q", e.Kind, e.Field)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("EmailFromString(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPhoneFromString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "", want: ""},
		{in: "   ", want: ""},
		{in: "+821012345678", want: "+821012345678"},
		{in: " +14155550123 ", want: "+14155550123"},
		{in: "+1234567", want: "+1234567"},                 // 7 digits, the shortest
		{in: "+123456789012345", want: "+123456789012345"}, // 15 digits, the longest
		{in: "+123456", wantErr: true},
		{in: "+1234567890123456", wantErr: true},
		{in: "821012345678", wantErr: true},
		{in: "010-1234-5678", wantErr: true},
		{in: "+82 10 1234 5678", wantErr: true},
		{in: "+82-10-1234-5678", wantErr: true},
		{in: "+0821012345678", wantErr: true},
		{in: "++821012345678", wantErr: true},
		{in: "+82101234567a", wantErr: true},
		{in: "+８２１０１２３４５６７８", wantErr: true}, // full-width digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := user.PhoneFromString(tt.in)
			if tt.wantErr {
				if !errors.Is(err, user.ErrInvalidPhone) {
					t.Fatalf("PhoneFromString(%q) = %q, %v; want ErrInvalidPhone", tt.in, got, err)
				}
				return
			}
			if err != nil || got.String() != tt.want || got.IsZero() != (tt.want == "") {
				t.Fatalf("PhoneFromString(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRoleAndLocaleFromString(t *testing.T) {
	t.Parallel()
	roles := []struct {
		in   string
		want user.Role
		ok   bool
	}{
		{"member", user.RoleMember, true}, {" Manager ", user.RoleManager, true}, {"ADMIN", user.RoleAdmin, true},
		{"", user.Role{}, false}, {"root", user.Role{}, false}, {"system", user.Role{}, false},
	}
	for _, tt := range roles {
		got, err := user.RoleFromString(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("RoleFromString(%q) = %v, %v", tt.in, got, err)
		}
		if !tt.ok && !errors.Is(err, user.ErrInvalidRole) {
			t.Errorf("RoleFromString(%q) error = %v, want ErrInvalidRole", tt.in, err)
		}
	}
	locales := []struct {
		in   string
		want user.Locale
		ok   bool
	}{
		{"ko", user.LocaleKorean, true}, {"", user.LocaleKorean, true}, {" EN ", user.LocaleEnglish, true},
		{"ja", user.Locale{}, false}, {"en-US", user.Locale{}, false},
	}
	for _, tt := range locales {
		got, err := user.LocaleFromString(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("LocaleFromString(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr error
	}{
		{"Alice", nil},
		{" 김철수 ", nil},
		{strings.Repeat("가", 100), nil},
		{strings.Repeat("가", 101), user.ErrNameTooLong},
		{"", user.ErrNameRequired},
		{" \t ", user.ErrNameRequired},
		{"A\xffB", user.ErrNameRequired},
	}
	for _, tt := range tests {
		err := user.CheckName(tt.in)
		if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("CheckName(%q) = %v, want %v", tt.in, err, tt.wantErr)
		}
	}
}
