package policy_test

import (
	"errors"
	"strings"
	"testing"

	"campaignd/internal/policy"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantErr string // substring; empty = no error
		lang    string
		subject string
	}{
		{"minimal", "Subject: Order {{.OrderID}}\n\nHi\n", "", "en", "Order {{.OrderID}}"},
		{"language and CRLF", "Subject: x\r\nLanguage: DE\r\n\r\nHallo\r\n", "", "de", "x"},
		{"header key case", "subject: x\nlanguage: fr\n\nBonjour\n", "", "fr", "x"},
		{"missing subject", "Language: en\n\nHi\n", "t.tmpl:1:1: missing Subject", "", ""},
		{"empty subject", "Subject:   \n\nHi\n", "t.tmpl:1:1: missing Subject", "", ""},
		{"unknown header", "Subject: x\nFrom: me\n\nHi\n", "t.tmpl:2:1: unknown header \"From\"", "", ""},
		{"duplicate header", "Subject: x\nSubject: y\n\nHi\n", "t.tmpl:2:1: header \"Subject\" given twice", "", ""},
		{"bad language", "Subject: x\nLanguage: english\n\nHi\n", "t.tmpl:2:11: language \"english\"", "", ""},
		{"no blank line", "Subject: x\nLanguage: en\n", "no blank line", "", ""},
		{"not a header", "Subject: x\nhello there\n\nHi\n", "t.tmpl:2:1: header line", "", ""},
		{"unknown field in body", "Subject: x\n\nHello\n  {{.Price}} now\n", "t.tmpl:4:5: unknown field .Price", "", ""},
		{"unknown field in subject", "Subject: Order {{.Order}}\n\nHi\n", "t.tmpl:1:18: unknown field .Order", "", ""},
		{"field chain", "Subject: x\n\n{{.OrderID.X}}\n", "t.tmpl:3:11: unknown field .OrderID.X", "", ""},
		{"field inside with", "Subject: x\n\n{{with .BuyerName}}{{.OrderID}}{{end}}\n", "t.tmpl:3:22: field .OrderID used inside with", "", ""},
		{"dollar field inside with", "Subject: x\n\n{{with .BuyerName}}{{$.OrderID}}{{end}}\n", "", "en", "x"},
		{"syntax error", "Subject: x\n\nline\n{{if .OrderID}}\n", "t.tmpl:5:1: body unexpected EOF", "", ""},
		{"range not allowed", "Subject: x\n\n{{range 5}}a{{end}}\n", "range is not allowed", "", ""},
		{"define not allowed", "Subject: x\n\n{{define \"a\"}}x{{end}}\n", "define and block", "", ""},
		{"function not allowed", "Subject: x\n\n{{html .ProductName}}\n", "function \"html\" is not allowed", "", ""},
		{"huge printf width", "Subject: x\n\n{{printf \"%999999d\" 1}}\n", "printf width", "", ""},
		{"invalid utf8", "Subject: x\n\n\xff\n", "not valid UTF-8", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := policy.ParseTemplate("t.tmpl", []byte(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, policy.ErrTemplate) {
					t.Fatalf("err %v does not wrap ErrTemplate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tp.Language != tt.lang || tp.Subject != tt.subject || tp.Path != "t.tmpl" {
				t.Fatalf("got lang %q subject %q path %q", tp.Language, tp.Subject, tp.Path)
			}
		})
	}
}

func TestRender(t *testing.T) {
	src := "Subject: Order {{.OrderID}} {{.ProductName}}\nLanguage: en\n\nHello{{with .BuyerName}} {{.}}{{end}},\n{{.ProductName}} <{{.ReviewURL}}> {{.SellerName}} {{.Marketplace}}{{\"!\"}}\n"
	tp, err := policy.ParseTemplate("r.tmpl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		d          policy.Data
		subj, body string
	}{
		{"all fields", policy.Data{OrderID: "1", ProductName: "A & <B>", ReviewURL: "u", BuyerName: "Jo", SellerName: "S", Marketplace: "Amazon.de"},
			"Order 1 A & <B>", "Hello Jo,\nA & <B> <u> S Amazon.de!\n"},
		{"no buyer", policy.Data{OrderID: "1", ProductName: "P"}, "Order 1 P", "Hello,\nP <>  !\n"},
		{"newline in subject data", policy.Data{OrderID: "1", ProductName: "P\r\nBcc: x"}, "Order 1 P  Bcc: x", "Hello,\nP\r\nBcc: x <>  !\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := tp.Render(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Subject != tt.subj || msg.Body != tt.body || msg.Language != "en" {
				t.Fatalf("got %q / %q / %q", msg.Subject, msg.Body, msg.Language)
			}
		})
	}
}

func TestRenderTooLong(t *testing.T) {
	tp, err := policy.ParseTemplate("r.tmpl", []byte("Subject: x\n\n{{.ProductName}}{{.ProductName}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Render(policy.Data{ProductName: strings.Repeat("x", policy.MaxMessageSize/2+1)})
	if !errors.Is(err, policy.ErrRender) {
		t.Fatalf("err = %v, want ErrRender", err)
	}
}
