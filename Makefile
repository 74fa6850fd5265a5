# Every target runs inside .venv, which `make venv` creates and fills from pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv debian run test lint format html html-student html-instructor html-zh gettext
.PHONY: update-po serve doctest bench html-zh-student html-zh-instructor
.PHONY: html-en html-en-student html-en-instructor
.PHONY: check-exercises grade student-kit check-kit

venv: $(STAMP)

# The Debian programs the tests and the book's recorded runs drive (nginx, Chromium,
# curl, ps, ss, systemd-socket-activate): installed when missing, as root; otherwise
# the script names the apt-get line to run.
debian:
	@bash .ci/debian-packages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: venv  ## serve examples/hello.py on http://127.0.0.1:8000
	$(VENV)/bin/minigun --bind $(HOST):$(PORT) examples.hello:app

# The suite runs TEST_WORKERS tests at once, each in a pytest-xdist worker process: two per
# core by default, since most tests wait (on a server starting, a signal, a timeout) rather
# than compute. What tests share is built once per run: the book's editions are started in
# the background as the run begins, and the tests that read them run last
# (tests/conftest.py). On two cores, same run of 1,791 tests: two workers 251 s, four 166 s.
# At most eight: past that, a big machine runs more servers and browsers at once than the
# timing tests were measured with, for little gain.
# `make test TEST_WORKERS=0` runs every test in one process, one after another.
TEST_WORKERS ?= $(shell n=$$((2 * $$(nproc))); echo $$((n > 8 ? 8 : n)))

test: venv debian  ## the whole test suite, TEST_WORKERS tests at a time
	$(PY) -m pytest -n $(TEST_WORKERS)

lint: venv  ## ruff, and mypy on the package's annotations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

SPHINX := $(VENV)/bin/sphinx-build
BOOK_FLAGS := -W -n --keep-going -c . book

# A built page must not load a script or a style sheet from the network.
offline_check = ! grep -rEl '<(script|link)[^>]*(src|href)="(https?:)?//' $(1) --include='*.html' \
	|| { echo "the pages above load something from the network"; exit 1; }

# Every page links to the same page in the other language (book/_ext/minigun_i18n.py),
# so each edition is built in both languages at once: `make html` never leaves a link
# to a folder it did not build (`make -j2 html` builds the two side by side).
html: html-en html-zh  ## the reader's edition, English and Chinese (_build/html, _build/html-zh)

html-student: html-en-student html-zh-student  ## the student's edition: exercise holes, no solutions, both languages

html-instructor: html-en-instructor html-zh-instructor  ## the instructor's edition: notes and syllabus, both languages

html-en: venv debian  ## the reader's edition in English only, strictly built into _build/html
	$(SPHINX) -b html $(BOOK_FLAGS) _build/html
	@$(call offline_check,_build/html)

html-en-student: venv debian  ## the student's edition in English only (_build/html-student)
	$(SPHINX) -b html -t student -d _build/doctrees-student $(BOOK_FLAGS) _build/html-student
	@$(call offline_check,_build/html-student)

html-en-instructor: venv debian  ## the instructor's edition in English only (_build/html-instructor)
	$(SPHINX) -b html -t instructor -d _build/doctrees-instructor $(BOOK_FLAGS) _build/html-instructor
	@$(call offline_check,_build/html-instructor)

# The Chinese edition: the same sources with the catalogs in book/locale/zh_CN.
LOCALES := book/locale
POT_DIR := _build/gettext

html-zh: venv debian  ## the Chinese edition, as strictly, into _build/html-zh
	$(SPHINX) -b html -D language=zh_CN $(BOOK_FLAGS) _build/html-zh
	@$(call offline_check,_build/html-zh)

html-zh-student: venv debian  ## the Chinese student's edition (_build/html-zh-student)
	$(SPHINX) -b html -D language=zh_CN -t student -d _build/doctrees-zh-student \
		$(BOOK_FLAGS) _build/html-zh-student
	@$(call offline_check,_build/html-zh-student)

html-zh-instructor: venv debian  ## the Chinese instructor's edition (_build/html-zh-instructor)
	$(SPHINX) -b html -D language=zh_CN -t instructor -d _build/doctrees-zh-instructor \
		$(BOOK_FLAGS) _build/html-zh-instructor
	@$(call offline_check,_build/html-zh-instructor)

# -E: a fresh environment, so a change in book/_ext reaches every catalog too.
# -t every_edition: the reader's, the student's and the instructor's text alike. The
# strings the book's extension writes itself (labels of generated text) go to the
# catalog of Sphinx's own messages, sphinx.pot, which Sphinx reads from locale_dirs.
gettext: venv  ## extract the book's English messages into _build/gettext/*.pot
	$(SPHINX) -b gettext -E -t every_edition $(BOOK_FLAGS) $(POT_DIR)
	$(VENV)/bin/pybabel --quiet extract --project=minigun -o $(POT_DIR)/sphinx.pot book/_ext

update-po: gettext  ## merge the .pot files into book/locale/zh_CN (changed English: fuzzy)
	$(VENV)/bin/sphinx-intl update --pot-dir $(POT_DIR) --locale-dir $(LOCALES) --language zh_CN

serve: venv  ## rebuild the book on save and serve it on http://127.0.0.1:8001
	$(VENV)/bin/sphinx-autobuild --host 127.0.0.1 --port 8001 --watch minigun --watch tests \
		--watch conf.py $(BOOK_FLAGS) _build/html

doctest: venv  ## run the book's {doctest} blocks against the real package
	$(SPHINX) -b doctest $(BOOK_FLAGS) _build/doctest

# The class exercises (exercises/README.md). Students solve them in the student kit,
# which `make student-kit` builds; this repository holds the reference they are cut from.
EXERCISES := $(PY) -m exercises.tool
KIT := _build/student-kit
KIT_BOOKS := --book en=_build/html-student --book zh_CN=_build/html-zh-student

student-kit: html-student html-zh-student  ## the repository to hand out: _build/student-kit
	$(PY) -m exercises.tool.kit $(KIT) $(KIT_BOOKS)

check-kit: html-student html-zh-student  ## build the kit elsewhere, prove it has no answer and works
	$(PY) -m exercises.tool.kitcheck $(KIT_BOOKS)

# SUBMISSIONS: one student kit per folder (a Classroom roster's clones); EX: some only.
grade: venv  ## grade a class with your tests: make grade SUBMISSIONS=DIR -> _build/grade/
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR [EX=ids]"; exit 2; }
	$(PY) -m exercises.tool.grade "$(SUBMISSIONS)" $(if $(EX),--exercises "$(EX)")

check-exercises: venv  ## every exercise fails as shipped and passes with the reference
	$(EXERCISES) check

bench: venv  ## minigun beside gunicorn and the ceiling (bench/.venv*); about 4 minutes
	$(PY) bench/run.py
