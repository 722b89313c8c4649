// Command netecho is a static helper the network tests and benchmark copy into containers (busybox's nc has no UDP):
//
//	netecho tcp PORT     answers each connection's first line with "ctr <name> peer <addr> <line>"
//	netecho udp PORT     the same per datagram
//	netecho sink PORT    reads and discards, one connection at a time
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

func main() {
	name, _ := os.Hostname()
	addr := ":" + os.Args[2]
	switch os.Args[1] {
	case "tcp":
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(1)
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "ctr %s peer %s %s\n", name, c.RemoteAddr(), strings.TrimSpace(line))
			}()
		}
	case "udp":
		pc, err := net.ListenPacket("udp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				os.Exit(1)
			}
			pc.WriteTo([]byte(fmt.Sprintf("ctr %s peer %s %s\n", name, from, strings.TrimSpace(string(buf[:n])))), from)
		}
	case "sink":
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(1)
			}
			n, _ := io.Copy(io.Discard, c)
			fmt.Fprintf(c, "%d\n", n)
			c.Close()
		}
	}
}
