// Package nginxconf reads the nginx configuration syntax that users of
// ingress-nginx write in snippet annotations and ConfigMap keys: directives
// ending in ";", blocks in braces, single- and double-quoted arguments with
// nginx's escapes, and "#" comments. It only reads: the result is a tree of
// directives with their arguments and line numbers, which callers turn into
// typed policies. Nothing read here is ever written into a configuration or
// executed.
//
// The rules follow nginx's own reader (ngx_conf_file.c): whitespace
// separates arguments; a backslash makes the next character literal while
// reading, and in the value \" \' and \\ stand for the character, \t \r \n
// for tab, carriage return and newline, any other pair is kept as written;
// "${" starts a variable name in which "}" does not close a block; a quoted
// argument must be followed by whitespace, ";", "{" or ")".
package nginxconf

import (
	"fmt"
	"strings"
)

// Limits that keep hostile input cheap: snippets are a few lines.
const (
	// MaxDepth is the deepest nesting of blocks accepted.
	MaxDepth = 8
	// MaxBytes is the longest input accepted.
	MaxBytes = 64 << 10
)

// Arg is one argument of a directive.
type Arg struct {
	// Value is the argument with quotes removed and escapes resolved.
	Value string
	// Quoted is set when the argument was written in quotes, where an
	// empty value or one with spaces is possible.
	Quoted bool
}

// Directive is one directive and, for a block, what it holds.
type Directive struct {
	// Name is the first word ("add_header", "if", "location").
	Name string
	// Args are the words after the name.
	Args []Arg
	// Line is the line the directive's name is on, counting from 1.
	Line int
	// Block holds the directives inside the braces; IsBlock tells an
	// empty block from none.
	Block   []Directive
	IsBlock bool
}

// Values returns the argument values.
func (d *Directive) Values() []string {
	out := make([]string, len(d.Args))
	for i, a := range d.Args {
		out[i] = a.Value
	}
	return out
}

// Error is a syntax error with the line it is on.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads src, the whole text of a snippet.
func Parse(src string) ([]Directive, error) {
	if len(src) > MaxBytes {
		return nil, &Error{Line: 1, Msg: fmt.Sprintf("snippet of %d bytes; at most %d are read", len(src), MaxBytes)}
	}
	p := &parser{src: src, line: 1}
	ds, end, err := p.block(0)
	if err != nil {
		return nil, err
	}
	if end == endBlock {
		return nil, &Error{Line: p.line, Msg: `unexpected "}"`}
	}
	return ds, nil
}

// token kinds that end a directive's words.
type ending int

const (
	endEOF   ending = iota // the input ended
	endSemi                // ";"
	endOpen                // "{"
	endBlock               // "}"
)

type parser struct {
	src  string
	pos  int
	line int
}

// block reads directives until "}" or the end of input.
func (p *parser) block(depth int) ([]Directive, ending, error) {
	var out []Directive
	for {
		words, line, end, err := p.words()
		if err != nil {
			return nil, 0, err
		}
		if len(words) == 0 {
			switch end {
			case endEOF, endBlock:
				return out, end, nil
			case endSemi:
				return nil, 0, &Error{Line: p.line, Msg: `unexpected ";"`}
			case endOpen:
				return nil, 0, &Error{Line: p.line, Msg: `unexpected "{"`}
			}
		}
		if words[0].Quoted && words[0].Value == "" {
			return nil, 0, &Error{Line: line, Msg: "empty directive name"}
		}
		d := Directive{Name: words[0].Value, Args: words[1:], Line: line}
		switch end {
		case endSemi:
		case endOpen:
			if depth+1 >= MaxDepth {
				return nil, 0, &Error{Line: line, Msg: fmt.Sprintf("blocks nested deeper than %d", MaxDepth)}
			}
			inner, innerEnd, err := p.block(depth + 1)
			if err != nil {
				return nil, 0, err
			}
			if innerEnd != endBlock {
				return nil, 0, &Error{Line: p.line, Msg: fmt.Sprintf(`unexpected end of snippet: the block of %q opened on line %d is not closed with "}"`, d.Name, line)}
			}
			d.Block, d.IsBlock = inner, true
			if d.Block == nil {
				d.Block = []Directive{}
			}
		case endEOF, endBlock:
			return nil, 0, &Error{Line: p.line, Msg: fmt.Sprintf(`directive %q on line %d is not terminated by ";"`, d.Name, line)}
		}
		out = append(out, d)
	}
}

// words reads the words of one directive and what ends them; line is the
// first word's line.
func (p *parser) words() (words []Arg, line int, end ending, err error) {
	for {
		// Between words: whitespace, comments and enders.
		for p.pos < len(p.src) {
			c := p.src[p.pos]
			if c == '\n' {
				p.line++
			}
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				p.pos++
				continue
			}
			if c == '#' {
				for p.pos < len(p.src) && p.src[p.pos] != '\n' {
					p.pos++
				}
				continue
			}
			break
		}
		if p.pos >= len(p.src) {
			return words, line, endEOF, nil
		}
		switch p.src[p.pos] {
		case ';':
			p.pos++
			return words, line, endSemi, nil
		case '{':
			p.pos++
			return words, line, endOpen, nil
		case '}':
			if len(words) > 0 {
				return nil, 0, 0, &Error{Line: p.line, Msg: `unexpected "}"`}
			}
			p.pos++
			return words, line, endBlock, nil
		}
		if len(words) == 0 {
			line = p.line
		}
		w, err := p.word()
		if err != nil {
			return nil, 0, 0, err
		}
		words = append(words, w)
	}
}

// word reads one word at p.pos, quoted or not.
func (p *parser) word() (Arg, error) {
	start, startLine := p.pos, p.line
	if q := p.src[p.pos]; q == '"' || q == '\'' {
		p.pos++
		for p.pos < len(p.src) {
			c := p.src[p.pos]
			switch {
			case c == '\\' && p.pos+1 < len(p.src):
				if p.src[p.pos+1] == '\n' {
					p.line++
				}
				p.pos += 2
				continue
			case c == '\n':
				p.line++
			case c == q:
				raw := p.src[start+1 : p.pos]
				p.pos++
				// nginx wants a separator after a quoted word.
				if p.pos < len(p.src) {
					switch p.src[p.pos] {
					case ' ', '\t', '\r', '\n', ';', '{', ')':
					default:
						return Arg{}, &Error{Line: p.line, Msg: fmt.Sprintf("unexpected %q after a quoted argument", p.src[p.pos])}
					}
				}
				return Arg{Value: unescape(raw), Quoted: true}, nil
			}
			p.pos++
		}
		return Arg{}, &Error{Line: startLine, Msg: fmt.Sprintf("unterminated %c-quoted argument", q)}
	}
	variable := false
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src):
			if p.src[p.pos+1] == '\n' {
				p.line++
			}
			p.pos += 2
			variable = false
			continue
		case c == '{' && variable:
			// "${name}": read to the closing brace.
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return Arg{}, &Error{Line: p.line, Msg: `unterminated "${" variable`}
			}
			if nl := strings.IndexByte(p.src[p.pos:p.pos+end], '\n'); nl >= 0 {
				return Arg{}, &Error{Line: p.line, Msg: `line break inside "${...}"`}
			}
			p.pos += end + 1
			variable = false
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '{' || c == '}':
			return Arg{Value: unescape(p.src[start:p.pos])}, nil
		case c == '"' || c == '\'':
			// A quote inside an unquoted word is literal in nginx.
		}
		variable = c == '$'
		p.pos++
	}
	return Arg{Value: unescape(p.src[start:p.pos])}, nil
}

// unescape resolves nginx's escapes in a word's text.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '"', '\'', '\\':
				b.WriteByte(s[i+1])
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
