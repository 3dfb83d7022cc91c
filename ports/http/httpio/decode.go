package httpio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// MaxBodyBytes is the largest request body the API reads (1 MiB).
const MaxBodyBytes = 1 << 20

// Decoding errors. Every one is a 4xx: bad input never makes a 500.
var (
	ErrBodyTooLarge         = errs.BadRequest("body_too_large", "", "the request body is larger than 1 MiB")
	ErrUnsupportedMediaType = errs.BadRequest("unsupported_media_type", "", "the request body must be JSON (Content-Type: application/json)")
	ErrBodyRequired         = errs.BadRequest("body_required", "", "a JSON object body is required")
	ErrMalformedJSON        = errs.BadRequest("malformed_json", "", "the request body is not valid JSON")
	ErrNotAnObject          = errs.BadRequest("invalid_type", "", "the request body must be a JSON object")
	ErrUnknownField         = errs.BadRequest("unknown_field", "", "unknown field")
	ErrDuplicateField       = errs.BadRequest("duplicate_field", "", "field given more than once")
	ErrInvalidType          = errs.BadRequest("invalid_type", "", "wrong type")
	ErrReadingBody          = errs.BadRequest("unreadable_body", "", "the request body could not be read")
)

// Optional is a body field whose presence matters (partial updates): Set is
// true when the key was in the body, Null when its value was JSON null.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records presence; null sets Null and the zero value.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		var zero T
		o.Value = zero
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Decode reads r's body into dst, a pointer to a struct whose fields carry
// json tags. It is strict: the Content-Type must be JSON (or absent), the
// body at most limit bytes (≤ 0 means MaxBodyBytes) and exactly one JSON
// object; every key must be one of dst's json names, spelled exactly, and
// appear once; each value must fit its field's type. A JSON null leaves a
// plain field at its zero value (Optional fields record it). Every error is
// an *errs.Error or a *StatusError for a 4xx, naming the field where one is
// at fault.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	present, err := DecodeOptional(w, r, limit, dst)
	if err != nil {
		return err
	}
	if !present {
		return ErrBodyRequired
	}
	return nil
}

// DecodeOptional is Decode for a body that may be absent (an empty body):
// present reports whether there was one.
func DecodeOptional(w http.ResponseWriter, r *http.Request, limit int64, dst any) (present bool, err error) {
	body, err := ReadBody(w, r, limit)
	if err != nil || body == nil {
		return false, err
	}
	return true, DecodeBytes(body, dst)
}

// ReadBody reads r's body with Decode's limits: at most limit bytes (≤ 0
// means MaxBodyBytes) and a JSON Content-Type (or none). It returns nil for
// an empty (or all-white-space) body, whatever its Content-Type.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	if r.ContentLength > limit {
		return nil, WithStatus(http.StatusRequestEntityTooLarge, ErrBodyTooLarge)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, WithStatus(http.StatusRequestEntityTooLarge, ErrBodyTooLarge)
		}
		return nil, ErrReadingBody
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return body, nil
}

// checkContentType accepts no Content-Type (curl -d without -H is common
// with the seed's examples), application/json and application/*+json, in
// UTF-8.
func checkContentType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return WithStatus(http.StatusUnsupportedMediaType, ErrUnsupportedMediaType)
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return WithStatus(http.StatusUnsupportedMediaType, ErrUnsupportedMediaType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return WithStatus(http.StatusUnsupportedMediaType, ErrUnsupportedMediaType)
	}
	return nil
}

// DecodeBytes decodes body, one JSON object, into dst with Decode's rules.
func DecodeBytes(body []byte, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic("httpio: DecodeBytes needs a pointer to a struct")
	}
	fields := fieldsOf(rv.Elem().Type())
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	tok, err := dec.Token()
	if err != nil {
		return malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return ErrNotAnObject
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed(err)
		}
		key, ok := tok.(string)
		if !ok {
			return ErrMalformedJSON
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return malformed(err)
		}
		idx, known := fields[key]
		if !known {
			return ErrUnknownField.WithField(truncate(key, 64)).WithMessage("unknown field %q", truncate(key, 64))
		}
		if seen[key] {
			return ErrDuplicateField.WithField(key).WithMessage("field %q is given more than once", key)
		}
		seen[key] = true
		if err := setField(rv.Elem().FieldByIndex(idx), raw); err != nil {
			return ErrInvalidType.WithField(key).WithMessage("%s must be %s", key, describe(rv.Elem().FieldByIndex(idx).Type()))
		}
	}
	if tok, err := dec.Token(); err != nil {
		return malformed(err)
	} else if d, ok := tok.(json.Delim); !ok || d != '}' {
		return ErrMalformedJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrMalformedJSON.WithMessage("the request body must hold one JSON object and nothing after it")
	}
	return nil
}

func setField(fv reflect.Value, raw json.RawMessage) error {
	ptr := fv.Addr().Interface()
	if u, ok := ptr.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(raw)
	}
	if bytes.Equal(raw, []byte("null")) {
		return nil // null is "not given" for a plain field
	}
	return json.Unmarshal(raw, ptr)
}

func malformed(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return ErrMalformedJSON.WithMessage("the request body is not valid JSON (at byte %d)", syn.Offset)
	}
	return ErrMalformedJSON
}

var fieldCache sync.Map // reflect.Type → map[string][]int

func fieldsOf(t reflect.Type) map[string][]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string][]int)
	}
	m := make(map[string][]int)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Index
	}
	fieldCache.Store(t, m)
	return m
}

func describe(t reflect.Type) string {
	if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Optional[") {
		if f, ok := t.FieldByName("Value"); ok {
			return describe(f.Type) + " or null"
		}
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("of type %s", t)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
