package themes

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/charmbracelet/lipgloss"
)

// Color is one theme colour, possibly different on light and dark
// backgrounds. In TOML it is either a string ("#7aa2f7", or an ANSI index
// "0".."255") or an inline table {light = "…", dark = "…"}.
type Color struct {
	Light, Dark string
}

var hexColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

func validColor(s string) error {
	if hexColor.MatchString(s) {
		return nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 255 {
		return nil
	}
	return fmt.Errorf("bad colour %q: want #rgb, #rrggbb or an ANSI index 0-255", s)
}

// UnmarshalTOML implements toml.Unmarshaler; errors returned here come back
// from the decoder with the key's line.
func (c *Color) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		if err := validColor(x); err != nil {
			return err
		}
		c.Light, c.Dark = x, x
		return nil
	case map[string]any:
		for k, raw := range x {
			s, ok := raw.(string)
			if !ok {
				return fmt.Errorf("colour %q must be a string", k)
			}
			if err := validColor(s); err != nil {
				return err
			}
			switch k {
			case "light":
				c.Light = s
			case "dark":
				c.Dark = s
			default:
				return fmt.Errorf("unknown colour key %q (want light, dark)", k)
			}
		}
		if c.Light == "" || c.Dark == "" {
			return fmt.Errorf("an adaptive colour needs both light and dark")
		}
		return nil
	}
	return fmt.Errorf("a colour is a string or {light = …, dark = …}, not %T", v)
}

// Adaptive turns the colour into a lipgloss colour; the renderer that draws
// it picks the light or dark variant from its own terminal, so each SSH
// session gets the right one.
func (c Color) Adaptive() lipgloss.TerminalColor {
	if c.Light == "" && c.Dark == "" {
		return lipgloss.NoColor{}
	}
	return lipgloss.AdaptiveColor{Light: c.Light, Dark: c.Dark}
}

// Hex returns the variant for the given background, for APIs that take a
// plain colour string (bubbles/progress).
func (c Color) Hex(dark bool) string {
	if dark {
		return c.Dark
	}
	return c.Light
}
