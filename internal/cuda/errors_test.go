//go:build linux && cgo

package cuda

import "testing"

// TestSticky: only the driver's errors that CUDA documents as breaking the
// context are sticky; the driver's others in the same ranges, and the
// other libraries' codes that happen to be equal, are not.
func TestSticky(t *testing.T) {
	for _, tc := range []struct {
		code   int
		driver bool
		want   bool
	}{
		{700, true, true},  // illegal address
		{702, true, true},  // launch timeout
		{719, true, true},  // launch failed
		{214, true, true},  // uncorrectable ECC error
		{226, true, true},  // contained
		{701, true, false}, // launch out of resources
		{712, true, false}, // host memory already registered
		{720, true, false}, // cooperative launch too large
		{2, true, false},   // out of memory
		{999, true, false}, // unknown
		{700, false, false},
		{CodeNoSymbol, false, false},
	} {
		e := &Error{Func: "f", Code: tc.code, driver: tc.driver}
		if got := e.Sticky(); got != tc.want {
			t.Errorf("code %d (driver %v): Sticky() = %v, want %v", tc.code, tc.driver, got, tc.want)
		}
	}
}
