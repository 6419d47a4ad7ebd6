package proto

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

func init() {
	register(Protocol{Name: "chargen", Port: 19, DefaultListen: "127.0.0.1:10019", New: newChargen})
	register(Protocol{Name: "qotd", Port: 17, DefaultListen: "127.0.0.1:10017", New: newQOTD})
}

// chargenHandler is RFC 864 over UDP: any datagram is answered with one
// datagram of a random number (0..512) of characters, the 72-column lines
// of the 95 printable ASCII characters, each line starting one character
// later than the one before and the rotation continuing across datagrams.
type chargenHandler struct {
	mu   sync.Mutex
	r    *rand.Rand
	line int // rotation of the next line
	col  int // position inside the current line
}

func newChargen(id Identity, _ Options) (Handler, error) {
	return &chargenHandler{r: id.Rand("chargen")}, nil
}

const chargenMax = 512

func (h *chargenHandler) Respond(req []byte, _ Peer) (Reply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.r.IntN(chargenMax + 1)
	b := make([]byte, 0, n)
	for len(b) < n {
		switch {
		case h.col < 72:
			b = append(b, byte(' '+(h.line+h.col)%95))
		case h.col == 72:
			b = append(b, '\r')
		default:
			b = append(b, '\n')
		}
		if h.col++; h.col == 74 {
			h.col = 0
			h.line = (h.line + 1) % 95
		}
	}
	return Reply{Content: fmt.Sprintf("%d bytes", len(req)), Packets: [][]byte{b}}, nil
}

// qotdHandler is RFC 865 over UDP: a quote per datagram, under 512 bytes.
type qotdHandler struct {
	mu sync.Mutex
	r  *rand.Rand
}

var quotes = []string{
	"\"The only way to do great work is to love what you do.\"\r\n Steve Jobs (1955-2011)\r\n",
	"\"My spelling is Wobbly. It's good spelling but it Wobbles, and the letters\r\n get in the wrong places.\" A. A. Milne (1882-1958)\r\n",
	"\"Oh the nerves, the nerves; the mysteries of this machine called man!\r\n Oh the little that unhinges it, poor creatures that we are!\"\r\n Charles Dickens (1812-70)\r\n",
	"\"We want a few mad people now. See where the sane ones have landed us!\"\r\n George Bernard Shaw (1856-1950)\r\n",
	"\"Here's the rule for bargains: \"Do other men, for they would do you.\"\r\n That's the true business precept.\" Charles Dickens (1812-70)\r\n",
	"\"Man can climb to the highest summits, but he cannot dwell there long.\"\r\n George Bernard Shaw (1856-1950)\r\n",
	"\"A wonderful fact to reflect upon, that every human creature is constituted\r\n to be that profound secret and mystery to every other.\"\r\n Charles Dickens (1812-70)\r\n",
	"\"Few things are harder to put up with than the annoyance of a good example.\"\r\n Mark Twain (1835-1910)\r\n",
	"\"I have never let my schooling interfere with my education.\"\r\n Mark Twain (1835-1910)\r\n",
}

func newQOTD(id Identity, _ Options) (Handler, error) {
	return &qotdHandler{r: id.Rand("qotd")}, nil
}

func (h *qotdHandler) Respond(req []byte, _ Peer) (Reply, error) {
	h.mu.Lock()
	q := quotes[h.r.IntN(len(quotes))]
	h.mu.Unlock()
	return Reply{Content: fmt.Sprintf("%d bytes", len(req)), Packets: [][]byte{[]byte(q)}}, nil
}
