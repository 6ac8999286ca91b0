package pipeline

import "testing"

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "64MiB", want: 64 << 20},
		{in: "256MiB", want: 256 << 20},
		{in: "65536KiB", want: 64 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "1.5GiB", want: 3 << 29},
		{in: "63MiB", wantErr: `"63MiB" is below the minimum of 64MiB`},
		{in: "0MiB", wantErr: `"0MiB" is below the minimum of 64MiB`},
		{in: "-1GiB", wantErr: `"-1GiB" is below the minimum of 64MiB`},
		{in: "1GB", wantErr: `"1GB" is not a memory size (write e.g. 256MiB, 512MiB or 2GiB; units KiB, MiB, GiB)`},
		{in: "MiB", wantErr: `"MiB" is not a memory size (write e.g. 256MiB, 512MiB or 2GiB; units KiB, MiB, GiB)`},
		{in: "NaNGiB", wantErr: `"NaNGiB" is not a memory size (write e.g. 256MiB, 512MiB or 2GiB; units KiB, MiB, GiB)`},
		{in: "9999999999GiB", wantErr: `"9999999999GiB" is too large`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMemory(tt.in)
			switch {
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("ParseMemory(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantErr)
			case tt.wantErr == "" && (err != nil || got != tt.want):
				t.Errorf("ParseMemory(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}
