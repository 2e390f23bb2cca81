// SPDX-License-Identifier: MIT
// upload URL BODY_FILE TRIES: posts the file TRIES times with Go's
// net/http, each on a new connection, and prints one line per try:
// "status CODE", or "error: WHAT".
package main

import (
	"bytes"
	"fmt"
	"io"
	"io/ioutil"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	// ioutil rather than os and io: Go before 1.16 (Debian 11) has only it.
	body, err := ioutil.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tries, _ := strconv.Atoi(os.Args[3])
	for i := 0; i < tries; i++ {
		client := &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{DisableKeepAlives: true},
		}
		resp, err := client.Post(os.Args[1], "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		io.Copy(ioutil.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println("status", resp.StatusCode)
	}
}
