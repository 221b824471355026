package notice

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const htmlType = `text/html; charset="UTF-8"`

// parseCase is one row content and the result Parse must return: want for a
// notice, notWebhook for ErrNotWebhook, or errLine and errText for a
// ParseError.
type parseCase struct {
	name       string
	in         Input
	want       *Notice
	notWebhook bool
	errLine    int
	errText    string
}

var parseCases = []parseCase{
	{
		name: "minimal",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "hold notice with CRLF",
		in: Input{LetterCode: "HOLD", Content: "---\r\nwebhook: yes\r\npatron: 51\r\nhold: 1201\r\n" +
			"biblio: 300\r\nbiblioitem: 301\r\nitem: 4000\r\nlibrary: CPL\r\n"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{1201}, Biblios: []int64{300},
			Biblioitems: []int64{301}, Items: []int64{4000}, Libraries: []string{"CPL"}},
	},
	{
		name: "lone CR",
		in:   Input{Content: "---\rwebhook: yes\rpatron: 51\rcheckout: 70083\r"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083}},
	},
	{
		name: "BOM at start",
		in:   Input{Content: "\uFEFF---\nwebhook: yes\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "BOM at appended fragment",
		in: Input{LetterCode: "CHECKOUT", Content: "---\nwebhook: yes\npatron: 51\ncheckout: 70083\n" +
			"\uFEFF---\nwebhook: yes\npatron: 51\ncheckout: 70084\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "Unicode spaces and tabs",
		in: Input{Content: "---\nwebhook:\u00A0yes\npatron:\u202F51\ncheckouts:\n\t- 70083\n\t-\u00A070084\n" +
			"holds:\u2007\t5\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}, Holds: []int64{5}},
	},
	{
		name: "tab indented document",
		in:   Input{Content: "\twebhook: yes\n\tpatron: 51\n\tcheckouts:\n\t\t- 70083\n\t\t- 70084\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "HTML paragraph and br",
		in:   Input{ContentType: htmlType, Content: "<p>webhook: yes<br>patron: 51</p>"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "HTML divs and entities",
		in: Input{Content: "<div>---</div>\n<div>webhook:&nbsp;yes</div>\n<div>patron: 51</div>\n" +
			"<div>checkouts: 70083,&#32;70084</div>\n<div># Tolkien &amp; Sons</div>\n" +
			"<div>library: <b>CPL</b></div>"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}, Libraries: []string{"CPL"}},
	},
	{
		name: "HTML page with pre",
		in: Input{ContentType: htmlType, Content: "<html><head><title>Hold: ready</title><style>p { margin: 0 }</style>" +
			"</head><body><pre>\n  ---\n  webhook: yes\n  patron: 51\n  holds:\n    - 1201\n</pre><!-- holds: 9 --></body></html>"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{1201}},
	},
	{
		name: "HTML br list",
		in: Input{ContentType: htmlType, Content: "<p>---<br />webhook: yes<br/>patron: 51<br>" +
			"checkouts:<br>90051,<br>90052,<br></p>"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{90051, 90052}},
	},
	{
		name: "HTML newsletter",
		in: Input{ContentType: htmlType, Content: "<html><body><h1>New: webhooks</h1><p>Write webhook: yes " +
			"at the top of a template to send it to the notice service.</p></body></html>"},
		notWebhook: true,
	},
	{
		name:       "plain mention",
		in:         Input{Content: "Dear Ana,\nour new webhook service is live.\nwebhook: yes\n"},
		notWebhook: true,
	},
	{
		name:       "webhook yesterday",
		in:         Input{Content: "webhook: yesterday\npatron: 51\n"},
		notWebhook: true,
	},
	{
		name:       "webhook no",
		in:         Input{Content: "---\nwebhook: no\npatron: 51\n"},
		notWebhook: true,
	},
	{
		name:       "marker without trigger",
		in:         Input{Content: "---\npatron: 51\ncheckouts: [1, 2\n"},
		notWebhook: true,
	},
	{
		name:       "trigger only nested",
		in:         Input{Content: "---\nnotes:\n  webhook: yes\npatron: 51\n"},
		notWebhook: true,
	},
	{
		name:       "empty content",
		in:         Input{Content: ""},
		notWebhook: true,
	},
	{
		name: "double quoted YES",
		in:   Input{Content: "webhook: \"YES\"\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "capitalised keys",
		in:   Input{Content: "---\nWebhook: True\nPatron: 51\nCheckouts: 70083\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083}},
	},
	{
		name: "single quoted true with comment",
		in:   Input{Content: "---\nwebhook: 'true' # send to the notice service\npatron: 51 # Ana Lima\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "DUEDGST digest separators",
		in: Input{LetterCode: "DUEDGST", Content: "---\nwebhook: yes\npatron: 51\ncheckouts:\n----\n70081,\n" +
			"----\n70082,\n70083----\n70084\n----\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70081, 70082, 70083, 70084}},
	},
	{
		name: "glued document marker",
		in: Input{LetterCode: "CHECKOUT", Content: "---\nwebhook: yes\npatron: 51\ncheckouts: 70081\n70082---\n" +
			"webhook: yes\npatron: 51\ncheckouts: 70083\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70081, 70082, 70083}},
	},
	{
		name: "CHECKOUT three appended fragments",
		in: Input{LetterCode: "CHECKOUT", Content: "---\r\nwebhook: yes\r\npatron: 51\r\ncheckout: 70083\r\n" +
			"item: 4001\r\n\uFEFF---\nwebhook: yes\npatron: 51\ncheckout: 70084\nitem: 4002\n" +
			"---\nwebhook: yes\npatron: 51\ncheckout: 70085\nitem: 4001\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084, 70085}, Items: []int64{4001, 4002}},
	},
	{
		name: "glued key after id",
		in: Input{LetterCode: "CHECKOUT", Content: "---\nwebhook: yes\npatron: 51\ncheckouts:\n70083webhook: yes\n" +
			"patron: 51\ncheckouts: 70084"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "bare id lines",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts:\n90051,\n90052,\n\n90053\nlibrary: CPL\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{90051, 90052, 90053}, Libraries: []string{"CPL"}},
	},
	{
		name: "inline id then bare lines",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts: 70085\n70086\n70087, 70088,\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70085, 70086, 70087, 70088}},
	},
	{
		name: "folded continuation",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\n  52\ncheckouts: 70085\n  70086\n"},
		want: &Notice{Patrons: []int64{51, 52}, Checkouts: []int64{70085, 70086}},
	},
	{
		name: "HOLDDGST orphan segments",
		in:   Input{LetterCode: "HOLDDGST", Content: "---\nwebhook: yes\npatron: 51\n----\n1201\n----\n1202,\n----\n"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{1201, 1202}},
	},
	{
		name: "HOLD_REMINDER orphan",
		in:   Input{LetterCode: "HOLD_REMINDER", Content: "---\nwebhook: yes\npatron: 51\n----\n1201\n"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{1201}},
	},
	{
		name: "CHECKIN orphan",
		in:   Input{LetterCode: "CHECKIN", Content: "---\nwebhook: yes\npatron: 51\n70083\n70084\n"},
		want: &Notice{Patrons: []int64{51}, OldCheckouts: []int64{70083, 70084}},
	},
	{
		name: "overdue orphan document",
		in:   Input{LetterCode: "ODUE2", Content: "---\nwebhook: yes\npatron: 51\n---\n70083, 70084\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "orphan uses declared key",
		in: Input{LetterCode: "WELCOME", Content: "---\nwebhook: yes\npatron: 51\n----\n1200\n----\nholds:\n" +
			"----\n1201\n----\n"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{1200, 1201}},
	},
	{
		name:    "orphan without key",
		in:      Input{LetterCode: "WELCOME", Content: "---\nwebhook: yes\npatron: 51\n----\n70083, 70084\n"},
		errLine: 5,
		errText: `orphan id segment "70083, 70084" and no list key declared or inferable from letter code "WELCOME"`,
	},
	{
		name: "comment runs with wrapped titles",
		in: Input{LetterCode: "DUEDGST", Content: "---\nwebhook: yes\npatron: 51\ncheckouts:\n" +
			"# The Hobbit, or There and Back Again\nSubtitle: a journey\nIllustrated edition: 1937\n70085,\n" +
			"# Dune: Deluxe Edition\n# barcode: 39999000012345\n70086, # second copy\n" +
			"70087 # The Left Hand of Darkness\n# Catch-\n22\n\n# كتاب: عربي 📚\n- 70088\nlibrary: CPL\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70085, 70086, 70087, 70088}, Libraries: []string{"CPL"}},
	},
	{
		name: "comment ends at known key",
		in:   Input{Content: "---\n# Notice for: Ana\nwraps: here\nwebhook: yes\n# patron: 99\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "Perl reference rejected",
		in: Input{LetterCode: "CHECKIN", Content: "---\nwebhook: yes\npatron: 51\n" +
			"old_checkouts: Koha::Old::Checkout=HASH(0x55d0c2a81e40)\n"},
		want: &Notice{Patrons: []int64{51},
			Rejected: []RejectedID{{Key: KeyOldCheckouts, Value: "Koha::Old::Checkout=HASH(0x55d0c2a81e40)", Line: 4}}},
	},
	{
		name: "invalid ids rejected",
		in: Input{Content: "---\nwebhook: yes\npatron: 51\n" +
			"checkouts: 70115abc, 70116, ٧٠١, 0, 99999999999999999999, -5, 7.5, 70117 x\n" +
			"checkouts:\nKoha::Checkout=HASH(0x1f),\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70116}, Rejected: []RejectedID{
			{Key: KeyCheckouts, Value: "70115abc", Line: 4},
			{Key: KeyCheckouts, Value: "٧٠١", Line: 4},
			{Key: KeyCheckouts, Value: "0", Line: 4},
			{Key: KeyCheckouts, Value: "99999999999999999999", Line: 4},
			{Key: KeyCheckouts, Value: "-5", Line: 4},
			{Key: KeyCheckouts, Value: "7.5", Line: 4},
			{Key: KeyCheckouts, Value: "70117 x", Line: 4},
			{Key: KeyCheckouts, Value: "Koha::Checkout=HASH(0x1f)", Line: 6},
		}},
	},
	{
		name:    "only rejected patron",
		in:      Input{Content: "---\nwebhook: yes\npatron: abc\n"},
		errLine: 3,
		errText: `no valid record id, rejected patron "abc"`,
	},
	{
		name:    "only rejected orphans",
		in:      Input{LetterCode: "HOLDDGST", Content: "---\nwebhook: yes\n----\n70115abc\n----\n٧٠١\n"},
		errLine: 4,
		errText: `no valid record id, rejected holds "70115abc", holds "٧٠١" (line 6)`,
	},
	{
		name: "leading zeros are decimal",
		in:   Input{Content: "---\nwebhook: yes\npatron: 0012345\nitems: x\nitem: [007, \"0012\"]\n"},
		want: &Notice{Patrons: []int64{12345}, Items: []int64{7, 12}},
	},
	{
		name: "block sequence",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts:\n  - 70083\n  - 70084 # Dune\n  -\n  - '70085'\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084, 70085}},
	},
	{
		name: "flow sequences",
		in: Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts: [70083, 70084, ] # two\n" +
			"holds: [\n  1201,\n  \"1202\" # quoted\n]\nold_holds: [1, , 2]\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}, Holds: []int64{1201, 1202},
			OldHolds: []int64{1, 2}},
	},
	{
		name: "id list spacing",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts: 1, 2, ,3,  4 ,2,1,\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{1, 2, 3, 4}},
	},
	{
		name: "quoted id list",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts: \"70083\", '70084',\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "duplicate keys",
		in: Input{LetterCode: "HOLDDGST", Content: "---\nwebhook: yes\npatron: 51\nhold: 5\nhold: 6\ncheckout: 70083\n" +
			"checkout: 70084\ncheckouts: 70083\nold_hold: 9\nold_holds: 10, 9\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{5, 6}, Checkouts: []int64{70083, 70084},
			OldHolds: []int64{9, 10}},
	},
	{
		name: "empty values",
		in: Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts:\nholds: \nbiblio: \"\"\nitem: ~\n" +
			"old_checkouts: []\nlibrary:\nhold: # none\n"},
		want: &Notice{Patrons: []int64{51},
			EmptyKeys: []string{KeyCheckouts, KeyHolds, KeyBiblio, KeyItem, KeyOldCheckouts, KeyLibrary}},
	},
	{
		name: "unknown keys ignored",
		in: Input{Content: "---\nwebhook: yes\ngreeting: Hello, Ana: welcome!\nnotes: |\n  patron: 999\n" +
			"  Bring your card: it is needed\n  70000\npatron: 51\nextra:\n  nested: {a: [1, 2}\n" +
			"subject: \"عربى 📚 Ünïcødé\"\nurl: https://library.example/opac\ncheckouts: 70083\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083}},
	},
	{
		name: "library codes",
		in:   Input{Content: "---\nwebhook: yes\npatron: 51\nlibrary:  MAIN_BR  \nlibrary: Main Library\nlibrary: MAIN_BR\n"},
		want: &Notice{Patrons: []int64{51}, Libraries: []string{"MAIN_BR"},
			Rejected: []RejectedID{{Key: KeyLibrary, Value: "Main Library", Line: 5}}},
	},
	{
		name: "flow mapping document",
		in:   Input{Content: "---\n{webhook: yes, patron: 51, checkouts: [70083, 70084]}\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "leading comment",
		in:   Input{Content: "# Checkout notice\n\n---\nwebhook: yes\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "document marker with content",
		in:   Input{Content: "--- webhook: yes\npatron: 51\n...\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "compact keys",
		in:   Input{Content: "webhook:yes\npatron:51\ncheckouts:70083\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083}},
	},
	{
		name: "wrapped leading comment",
		in:   Input{Content: "# Overdue notice for\nAna Lima\n---\nwebhook: yes\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "id without comma continues comment",
		in:   Input{Content: "---\nwebhook: yes\ncheckouts: 70083,\n# The Hobbit\n70084\n"},
		want: &Notice{Checkouts: []int64{70083}},
	},
	{
		name: "duplicate webhook keys",
		in:   Input{Content: "---\nwebhook: yes\nwebhook: no\npatron: 51\n"},
		want: &Notice{Patrons: []int64{51}},
	},
	{
		name: "HTML list items",
		in: Input{ContentType: htmlType, Content: "<p>---</p>\r\n<p>webhook: yes</p>\r\n<p>checkouts:</p>\n" +
			"<ul>\n  <li>70083</li>\n  <li>70084</li>\n</ul>"},
		want: &Notice{Checkouts: []int64{70083, 70084}},
	},
	{
		name: "text between bare ids",
		in: Input{LetterCode: "HOLD", Content: "---\nwebhook: yes\npatron: 51\nholds: 1201\n1202\n" +
			"Thank you for using the library\n1203\n"},
		want: &Notice{Patrons: []int64{51}, Holds: []int64{1201, 1202, 1203}},
	},
	{
		name: "orphans after unknown key",
		in:   Input{LetterCode: "CHECKOUT", Content: "---\nwebhook: yes\npatron: 51\nnotes: Checked out today\n70083,\n70084,\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}},
	},
	{
		name: "tags anchors and block scalars",
		in: Input{Content: "---\nwebhook: yes\npatron: !!str 0051\ncheckouts: >-\n  70083\n  70084\n" +
			"item: &a 5\nbiblio: *a\nholds: \"12\\u0033\"\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{70083, 70084}, Items: []int64{5}, Holds: []int64{123},
			Rejected: []RejectedID{{Key: KeyBiblio, Value: "*a", Line: 8}}},
	},
	{
		name: "quoted keys",
		in:   Input{Content: "---\nwebhook: yes\n\"patron\": 51\n'checkouts':[1]\n\"notes\":x\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{1}},
	},
	{
		name: "indented text before keys",
		in:   Input{Content: "---\n  Dear Ana: welcome\nwebhook: yes\npatron: 51\f\nitem: 4001\v\n"},
		want: &Notice{Patrons: []int64{51}, Items: []int64{4001}},
	},
	{
		name: "no ids",
		in:   Input{Content: "---\nwebhook: yes\nnotes: nothing yet\n"},
		want: &Notice{},
	},
	{
		name: "excluded document keeps no ids",
		in: Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts: 1\n---\nwebhook: no\ncheckouts: [2, 3\n" +
			"---\ncheckouts: 4\n"},
		want: &Notice{Patrons: []int64{51}, Checkouts: []int64{1, 4}},
	},
	{
		name:    "unclosed flow sequence",
		in:      Input{Content: "---\nwebhook: yes\npatron: 51\ncheckouts: [70083, 70084\nholds: 5\n"},
		errLine: 4,
		errText: `invalid YAML: unclosed flow sequence "[70083, 70084" in "checkouts"`,
	},
	{
		name:    "unclosed flow before trigger",
		in:      Input{Content: "---\ncheckouts: [70083,\nwebhook: yes\n"},
		errLine: 2,
		errText: "unclosed flow sequence",
	},
	{
		name:    "unclosed quote",
		in:      Input{Content: "---\nwebhook: yes\npatron: \"51\n"},
		errLine: 3,
		errText: `invalid YAML: unclosed quoted value "\"51" in "patron"`,
	},
	{
		name:    "key indented under value",
		in:      Input{Content: "---\nwebhook: yes\npatron: 51\n  checkouts: 70083\n"},
		errLine: 4,
		errText: `invalid YAML: key "checkouts" is indented under "patron", which already has a value`,
	},
	{
		name:    "key indented less",
		in:      Input{Content: "---\n  webhook: yes\n  patron: 51\nholds: 5\n"},
		errLine: 4,
		errText: `invalid YAML: key "holds" is indented less than the keys before it`,
	},
	{
		name:    "mapping under key",
		in:      Input{Content: "---\nwebhook: yes\npatron:\n  borrowernumber: 51\n"},
		errLine: 4,
		errText: `invalid YAML: value of "patron" is a mapping, expected record ids`,
	},
	{
		name:    "text after quoted value",
		in:      Input{Content: "---\nwebhook: yes\npatron: '51' extra\n"},
		errLine: 3,
		errText: `invalid YAML: unexpected text "extra" after the quoted value of "patron"`,
	},
	{
		name:    "mapping in flow sequence",
		in:      Input{Content: "---\nwebhook: yes\ncheckouts: [1, [2, 3], {a: 4}]\n"},
		errLine: 3,
		errText: `invalid YAML: value of "checkouts" is a mapping, expected record ids`,
	},
	{
		name:    "text after flow",
		in:      Input{Content: "---\nwebhook: yes\ncheckouts: [1, 2] 3\n"},
		errLine: 3,
		errText: `invalid YAML: unexpected text "3" after the value of "checkouts"`,
	},
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.in)
			switch {
			case tc.notWebhook:
				if !errors.Is(err, ErrNotWebhook) || got != nil {
					t.Fatalf("Parse() = %+v, %v; want nil, ErrNotWebhook", got, err)
				}
			case tc.errText != "":
				var perr *ParseError
				if !errors.As(err, &perr) || got != nil {
					t.Fatalf("Parse() = %+v, %v; want nil, *ParseError", got, err)
				}
				if perr.Line != tc.errLine {
					t.Errorf("ParseError.Line = %d, want %d (%v)", perr.Line, tc.errLine, perr)
				}
				if !strings.Contains(perr.What, tc.errText) {
					t.Errorf("ParseError.What = %q, want it to contain %q", perr.What, tc.errText)
				}
			default:
				if err != nil {
					t.Fatalf("Parse() error = %v, want nil", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Parse() =\n%+v\nwant\n%+v", got, tc.want)
				}
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  ParseError
		want string
	}{
		{"with line", ParseError{Line: 4, What: "invalid YAML: unclosed"}, "line 4: invalid YAML: unclosed"},
		{"without line", ParseError{What: "no ids"}, "no ids"},
		{"newlines replaced", ParseError{Line: 2, What: "a\nb\r\nc"}, "line 2: a b  c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseErrorLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 500)
	contents := []string{
		"---\nwebhook: yes\npatron: " + long + "\nitem: " + long + "\nbiblio: " + long + "\n",
		"---\nwebhook: yes\ncheckouts: [" + long + "\n",
		"---\nwebhook: yes\n----\n1" + long + "\n",
	}
	for i, content := range contents {
		_, err := Parse(Input{Content: content, LetterCode: long})
		var perr *ParseError
		if !errors.As(err, &perr) {
			t.Fatalf("content %d: Parse() error = %v, want *ParseError", i, err)
		}
		if msg := perr.Error(); len(msg) > 200 {
			t.Errorf("content %d: message is %d bytes: %s", i, len(msg), msg)
		}
	}
}

func TestRejectedValueTruncated(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	got, err := Parse(Input{Content: "---\nwebhook: yes\npatron: 51\nitem: " + long + "\n"})
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if len(got.Rejected) != 1 {
		t.Fatalf("Rejected = %+v, want one value", got.Rejected)
	}
	if v := got.Rejected[0].Value; v != strings.Repeat("é", 40) {
		t.Errorf("Rejected[0].Value = %q (%d bytes), want 40 characters", v, len(v))
	}
}

func TestListKeyForLetterCode(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"HOLDDGST": KeyHolds, "HOLD_REMINDER": KeyHolds, "CHECKIN": KeyOldCheckouts,
		"CHECKOUT": KeyCheckouts, "RENEWAL": KeyCheckouts, "DUE": KeyCheckouts, "DUEDGST": KeyCheckouts,
		"PREDUE": KeyCheckouts, "PREDUEDGST": KeyCheckouts, "AUTO_RENEWALS": KeyCheckouts,
		"AUTO_RENEWALS_DGST": KeyCheckouts, "ODUE": KeyCheckouts, "ODUE3": KeyCheckouts,
		"ODUE_CHILD": KeyCheckouts, " duedgst ": KeyCheckouts,
		"WELCOME": "", "HOLD": "", "": "", "CHECKOUT_NOTE": "", "MEMBERSHIP_EXPIRY": "",
	}
	for code, want := range cases {
		if got := listKeyForLetterCode(code); got != want {
			t.Errorf("listKeyForLetterCode(%q) = %q, want %q", code, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in.Content, tc.in.ContentType, tc.in.LetterCode)
	}
	f.Fuzz(func(t *testing.T, content, contentType, letterCode string) {
		got, err := Parse(Input{Content: content, ContentType: contentType, LetterCode: letterCode})
		var perr *ParseError
		switch {
		case errors.Is(err, ErrNotWebhook):
			if got != nil {
				t.Fatalf("notice %+v returned with ErrNotWebhook", got)
			}
		case errors.As(err, &perr):
			if got != nil {
				t.Fatalf("notice %+v returned with ParseError", got)
			}
			if msg := perr.Error(); strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("ParseError message is not one line: %q", msg)
			}
		case err != nil:
			t.Fatalf("unexpected error type %T: %v", err, err)
		case got == nil:
			t.Fatal("nil notice without error")
		default:
			checkNotice(t, got)
		}
	})
}

// checkNotice fails t unless every id of n is positive and unique per key.
func checkNotice(t *testing.T, n *Notice) {
	t.Helper()
	lists := map[string][]int64{
		KeyPatron: n.Patrons, KeyBiblio: n.Biblios, KeyBiblioitem: n.Biblioitems, KeyItem: n.Items,
		KeyCheckouts: n.Checkouts, KeyOldCheckouts: n.OldCheckouts, KeyHolds: n.Holds, KeyOldHolds: n.OldHolds,
	}
	for key, ids := range lists {
		seen := make(map[int64]bool)
		for _, id := range ids {
			if id <= 0 || seen[id] {
				t.Fatalf("%s ids %v: %d is not positive and unique", key, ids, id)
			}
			seen[id] = true
		}
	}
	seen := make(map[string]bool)
	for _, code := range n.Libraries {
		if code == "" || seen[code] {
			t.Fatalf("libraries %q: %q is empty or repeated", n.Libraries, code)
		}
		seen[code] = true
	}
}

// BenchmarkParse measures a DUEDGST digest of 50 checkouts, each in its own
// fragment under a wrapped comment, and a typical single-checkout notice.
func BenchmarkParse(b *testing.B) {
	var digest strings.Builder
	digest.WriteString("---\nwebhook: yes\npatron: 51\nlibrary: CPL\ncheckouts:\n")
	for i := range 50 {
		fmt.Fprintf(&digest, "----\n# Title number %d: a subtitle\n%d,\n", i, 70000+i)
	}
	benchmarks := []struct {
		name      string
		in        Input
		checkouts int
	}{
		{"digest50", Input{Content: digest.String(), LetterCode: "DUEDGST"}, 50},
		{"checkout", Input{LetterCode: "CHECKOUT", Content: "---\r\nwebhook: yes\r\npatron: 51\r\n" +
			"checkout: 70083 # The Hobbit\r\nitem: 4001\r\nbiblio: 300\r\nlibrary: CPL\r\n"}, 1},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			if n, err := Parse(bm.in); err != nil || len(n.Checkouts) != bm.checkouts {
				b.Fatalf("Parse() = %+v, %v; want %d checkouts", n, err, bm.checkouts)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bm.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
