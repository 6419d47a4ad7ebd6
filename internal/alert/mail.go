package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// sendMail delivers one alert through the configured relay: a short text
// body, the report row as a CSV attachment and the JSON payload.
func (d *Dispatcher) sendMail(ctx context.Context, dl *Delivery) error {
	c := d.cfg.SMTP
	msg, err := buildMail(c.From, dl.sub.Mail.To, dl.Payload, d.now())
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer cl.Close()
	if c.StartTLS {
		if err := cl.StartTLS(&tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, to := range dl.sub.Mail.To {
		if err := cl.Rcpt(to); err != nil {
			return fmt.Errorf("smtp rcpt %s: %w", to, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	return cl.Quit()
}

// headerSafe keeps event-derived text from breaking out of a header.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func buildMail(from string, to []string, p Payload, now time.Time) ([]byte, error) {
	row := map[string]string{}
	for i, c := range p.Report.Columns {
		row[c] = p.Report.Values[i]
	}
	subject := fmt.Sprintf("[kansoku] %s: %s", p.Kind, row["src_ip"]+row["ip"])
	switch p.Kind {
	case KindAmpVictim:
		subject = fmt.Sprintf("[kansoku] %s reflection DDoS against %s", row["application"], row["src_ip"])
	case KindDigest:
		subject = fmt.Sprintf("[kansoku] daily %s report for %s: %d rows", p.Layout, p.Day, p.Rows)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@kansoku>\r\nMIME-Version: 1.0\r\n",
		headerSafe(from), headerSafe(strings.Join(to, ", ")), headerSafe(subject), now.UTC().Format(time.RFC1123Z), headerSafe(p.ID))
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", mw.Boundary())

	text, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(text)
	if p.Kind == KindDigest {
		fmt.Fprintf(qp, "kansoku daily report (%s layout) for subscription %s: %d rows about your networks on %s (UTC), in report.csv.\r\n",
			p.Layout, p.Subscription, p.Rows, p.Day)
	} else {
		fmt.Fprintf(qp, "kansoku alert (%s) for subscription %s.\r\n\r\n", p.Kind, p.Subscription)
	}
	for i, c := range p.Report.Columns {
		if v := p.Report.Values[i]; v != "" {
			fmt.Fprintf(qp, "%s: %s\r\n", c, v)
		}
	}
	qp.Close()
	attach := func(name, ctype string, data []byte) error {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {ctype + "; name=\"" + name + "\""},
			"Content-Disposition":       {"attachment; filename=\"" + name + "\""},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return err
		}
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			fmt.Fprintf(w, "%s\r\n", enc[:76])
			enc = enc[76:]
		}
		_, err = fmt.Fprintf(w, "%s\r\n", enc)
		return err
	}
	if err := attach("report.csv", "text/csv", []byte(p.CSV)); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := attach("alert.json", "application/json", js); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
