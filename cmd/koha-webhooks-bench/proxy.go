package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// statementProxy is a loopback TCP proxy in front of MariaDB that counts
// the commands clients send, so that a program's statements can be counted
// exactly on a server other clients use too. It reads the MySQL client/server
// protocol without TLS or compression, which is what koha-webhooks uses on
// loopback: every packet is a 3-byte little-endian payload length, a
// sequence number and the payload, and a command is a packet with sequence
// number 0 whose first payload byte is the command code.
type statementProxy struct {
	listener net.Listener
	target   string
	log      *slog.Logger

	mu     sync.Mutex
	counts map[string]int64
	conns  sync.WaitGroup
}

// MySQL protocol command codes the proxy counts separately.
const (
	comQuit        = 0x01
	comQuery       = 0x03
	comPing        = 0x0e
	comStmtPrepare = 0x16
	comStmtExecute = 0x17
	maxPacketLen   = 0xffffff // a payload this long continues in the next packet
)

// startProxy listens on a free loopback port and forwards to target.
func startProxy(target string, log *slog.Logger) (*statementProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &statementProxy{listener: ln, target: target, log: log, counts: map[string]int64{}}
	go p.accept()
	return p, nil
}

// Addr returns the proxy's host:port.
func (p *statementProxy) Addr() string { return p.listener.Addr().String() }

// Close stops accepting and waits for open connections to end.
func (p *statementProxy) Close() {
	p.listener.Close()
	p.conns.Wait()
}

// Snapshot returns a copy of the counts so far, keyed by statement kind
// ("SELECT", "INSERT", "COMMIT", …) or command ("PING", "PREPARE", …).
func (p *statementProxy) Snapshot() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int64, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func (p *statementProxy) accept() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		go p.serve(client)
	}
}

func (p *statementProxy) serve(client net.Conn) {
	defer p.conns.Done()
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.log.Error("statement proxy cannot reach MariaDB", "address", p.target, "error", err)
		return
	}
	defer server.Close()
	go func() {
		io.Copy(client, server)
		client.Close()
	}()
	if err := p.forward(client, server); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		p.log.Warn("statement proxy connection ended", "error", err)
	}
}

// forward copies client packets to the server, counting each command.
func (p *statementProxy) forward(client io.Reader, server io.Writer) error {
	var packet []byte
	continued := false
	for {
		if cap(packet) < 4 {
			packet = make([]byte, 4, 64<<10)
		}
		packet = packet[:4]
		if _, err := io.ReadFull(client, packet); err != nil {
			return err
		}
		length := int(packet[0]) | int(packet[1])<<8 | int(packet[2])<<16
		packet = slices.Grow(packet, length)[:4+length]
		if _, err := io.ReadFull(client, packet[4:]); err != nil {
			return err
		}
		if packet[3] == 0 && !continued && length > 0 {
			p.count(packet[4:])
		}
		continued = length == maxPacketLen
		// Header and payload go out in one write, so that each statement
		// costs the server one read, as without the proxy.
		if _, err := server.Write(packet); err != nil {
			return err
		}
	}
}

func (p *statementProxy) count(payload []byte) {
	kind := "OTHER"
	switch payload[0] {
	case comQuery:
		kind = statementKind(payload[1:])
	case comStmtPrepare:
		kind = "PREPARE"
	case comStmtExecute:
		kind = "EXECUTE"
	case comPing:
		kind = "PING"
	case comQuit:
		kind = "QUIT"
	}
	p.mu.Lock()
	p.counts[kind]++
	p.mu.Unlock()
}

// statementKind returns the first keyword of a query in upper case, after
// white space and comments, with START TRANSACTION shortened to START.
func statementKind(query []byte) string {
	for {
		query = bytes.TrimLeft(query, " \t\r\n(")
		switch {
		case bytes.HasPrefix(query, []byte("/*")):
			end := bytes.Index(query, []byte("*/"))
			if end < 0 {
				return "OTHER"
			}
			query = query[end+2:]
			continue
		case bytes.HasPrefix(query, []byte("--")), bytes.HasPrefix(query, []byte("#")):
			end := bytes.IndexByte(query, '\n')
			if end < 0 {
				return "OTHER"
			}
			query = query[end+1:]
			continue
		}
		break
	}
	end := bytes.IndexFunc(query, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if end < 0 {
		end = len(query)
	}
	if end == 0 {
		return "OTHER"
	}
	return string(bytes.ToUpper(query[:end]))
}

// statementTotal sums the counts of statements that read or write rows.
func statementTotal(counts map[string]int64) int64 {
	return counts["SELECT"] + counts["INSERT"] + counts["UPDATE"] + counts["DELETE"] + counts["REPLACE"] + counts["EXECUTE"]
}

// formatCounts lists the counts as "SELECT 12, INSERT 3, …", largest first.
func formatCounts(counts map[string]int64) string {
	type kv struct {
		k string
		v int64
	}
	var list []kv
	for k, v := range counts {
		if v != 0 {
			list = append(list, kv{k, v})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].v != list[j].v {
			return list[i].v > list[j].v
		}
		return list[i].k < list[j].k
	})
	var b bytes.Buffer
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.k)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(e.v, 10))
	}
	return b.String()
}
