package lazyre

import "testing"

func TestLazy(t *testing.T) {
	r := New(`^a+b$`)
	if r.re != nil {
		t.Fatal("compiled before use")
	}
	if !r.MatchString("aab") || r.MatchString("b") {
		t.Fatal("wrong matches")
	}
	if m := New(`^(a)(b)$`).FindStringSubmatch("ab"); len(m) != 3 {
		t.Fatalf("submatch %v", m)
	}
}
