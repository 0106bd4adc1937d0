package orders

import "testing"

// fastValidID must agree with ValidID wherever it says yes.
func FuzzFastValidID(f *testing.F) {
	for _, s := range []string{"111-1111111-1111111", "S01-2412417-1075636", "5.8E+13", "abc-1234567-1234567",
		"111-1111111-11111111", "111-111111a-1111111", "AB1-0000000-0000000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if fastValidID([]byte(id)) && !ValidID(id) {
			t.Fatalf("fastValidID(%q) = true, ValidID = false", id)
		}
		if ValidID(id) && !fastValidID([]byte(id)) {
			t.Fatalf("fastValidID(%q) = false, ValidID = true", id)
		}
	})
}
