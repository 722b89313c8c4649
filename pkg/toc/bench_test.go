package toc

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkBuild indexes a 64 MiB per-file-member layer (1,280 files of 50 KiB).
func BenchmarkBuild(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnop \n"
	var files []file
	for i := range 1280 {
		data := make([]byte, 50<<10)
		for j := range data {
			data[j] = alphabet[rng.IntN(len(alphabet))]
		}
		files = append(files, file{h: tar.Header{Name: fmt.Sprintf("f%05d", i), Typeflag: tar.TypeReg, Mode: 0o644}, data: string(data)})
	}
	blob := layer(b, files, Gzip, true)
	b.SetBytes(int64(len(files)) * 50 << 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Build(bytes.NewReader(blob)); err != nil {
			b.Fatal(err)
		}
	}
}
