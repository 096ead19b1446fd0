package devtools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/folio-p2p/folio/internal/safeterm"
)

// fields is decoded page content: named values in a fixed order, printed
// as indented lines in text and as an object (keys in that order) in JSON.
// A value is a string, a number, a bool, a []string, fields (nested) or
// []fields.
type fields []field

type field struct {
	name  string
	value any
}

// add appends a field and returns the list, for chaining.
func (f fields) add(name string, value any) fields { return append(f, field{name, value}) }

// MarshalJSON writes the fields as one object, in order.
func (f fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(x.name)
		v, err := marshalNoEscape(x.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// write prints the fields as "name  value" lines under indent, names and
// values escaped (safeterm.Printable): they come from pages peers wrote.
func (f fields) write(w io.Writer, indent string) {
	width := 0
	for _, x := range f {
		width = max(width, len(x.name))
	}
	for _, x := range f {
		switch v := x.value.(type) {
		case fields:
			fmt.Fprintf(w, "%s%s\n", indent, x.name)
			v.write(w, indent+"  ")
		case []fields:
			fmt.Fprintf(w, "%s%s (%d)\n", indent, x.name, len(v))
			for i, sub := range v {
				fmt.Fprintf(w, "%s  [%d]\n", indent, i)
				sub.write(w, indent+"    ")
			}
		case []string:
			if len(v) == 0 {
				fmt.Fprintf(w, "%s%-*s  (none)\n", indent, width, x.name)
				continue
			}
			for i, s := range v {
				name := ""
				if i == 0 {
					name = x.name
				}
				fmt.Fprintf(w, "%s%-*s  %s\n", indent, width, name, safeterm.Printable(s))
			}
		case string:
			if v == "" {
				v = "(none)"
			}
			fmt.Fprintf(w, "%s%-*s  %s\n", indent, width, x.name, safeterm.Printable(v))
		default:
			fmt.Fprintf(w, "%s%-*s  %v\n", indent, width, x.name, v)
		}
	}
}
