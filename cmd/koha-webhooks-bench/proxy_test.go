package main

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// packet frames payload as one MySQL protocol packet with sequence number seq.
func packet(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

func TestProxyCountsCommands(t *testing.T) {
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	received := make(chan int64, 1)
	go func() {
		conn, err := server.Accept()
		if err != nil {
			return
		}
		n, _ := io.Copy(io.Discard, conn)
		received <- n
	}()

	p, err := startProxy(server.Addr().String(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	client, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var sent []byte
	for _, pk := range [][]byte{
		packet(1, []byte("handshake response, not a command")),
		packet(0, append([]byte{comQuery}, "SELECT * FROM items"...)),
		packet(0, append([]byte{comQuery}, "START TRANSACTION"...)),
		packet(0, append([]byte{comQuery}, "update message_queue SET status = 'sent'"...)),
		packet(0, []byte{comPing}),
		packet(0, []byte{comQuit}),
	} {
		sent = append(sent, pk...)
	}
	if _, err := client.Write(sent); err != nil {
		t.Fatal(err)
	}
	client.Close()

	select {
	case n := <-received:
		if n != int64(len(sent)) {
			t.Errorf("server received %d bytes, client sent %d", n, len(sent))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server received nothing within 5 s")
	}
	p.Close()

	got := p.Snapshot()
	want := map[string]int64{"SELECT": 1, "START": 1, "UPDATE": 1, "PING": 1, "QUIT": 1}
	for kind, n := range want {
		if got[kind] != n {
			t.Errorf("count of %s = %d, want %d", kind, got[kind], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("counts = %v, want only %v", got, want)
	}
}
