package themes

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyLine finds the line that defines key. toml.MetaData knows key positions
// but does not export them for undecoded keys, so we re-scan the (small) file:
// track the current [table] header and match "k = …" lines against it.
func keyLine(data []byte, key toml.Key) int {
	want := key.String()
	var table string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			table = strings.Trim(line, "[] ")
			if table == want {
				return n
			}
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"`)
		full := k
		if table != "" {
			full = table + "." + k
		}
		if full == want || strings.HasPrefix(want, full+".") {
			return n
		}
	}
	return 0
}
