"""`sourcetrace analyze --format html`: one self-contained page, article text inert."""
import subprocess
import sys


def run(*args, input=None):
    return subprocess.run([sys.executable, "-m", "sourcetrace", *args], input=input,
                          capture_output=True, text=True, timeout=300)


def test_cli_html_format_writes_a_self_contained_page(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text('Hostile <script>alert(1)</script> title\n\n'
                       '"We will not back down," the mayor said on Monday. '
                       '<img src=x onerror=alert(2)> <a href="javascript:alert(3)">x</a>\n',
                       encoding="utf-8")
    out = tmp_path / "a.html"
    proc = run("analyze", str(article), "--format", "html", "-o", str(out), "--any-language")
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert 'href="javascript:' not in page
    assert "mayor" in page
    # no external assets: nothing is loaded from elsewhere
    for attr in ('src="http', "src='http", 'href="http', "@import"):
        assert attr not in page
