# `sam build` (every function's Metadata says `BuildMethod: makefile`; samconfig.toml builds in
# source): one cargo-lambda build of every function's binary for arm64, then each function's
# bootstrap copied to its artifacts folder. The first function's target builds them all, linking
# side by side on every core; the others find them built. Built one function at a time instead
# (`rust-cargolambda`), each binary's fat-LTO link ran alone, one after another: 22 minutes from a
# fresh clone for 28 functions (docs/performance.md, "sam build").

CARGO_LAMBDA ?= cargo lambda
# The operator's command and the cold-start probe are not functions of the stack.
FUNCTIONS = --release --arm64 --workspace --exclude chat-admin --exclude hello-lambda

# A function's binary, as its Metadata.BuildProperties.Binary in template.yaml names it.
binary = $(shell awk '/^  $(1):$$/ { found = 1 } found && /Binary:/ { print $$2; exit }' template.yaml)

.PHONY: functions
functions:
	$(CARGO_LAMBDA) build $(FUNCTIONS)

build-%: functions
	@test -n "$(call binary,$*)" || { echo "template.yaml names no binary for $*" >&2; exit 1; }
	cp "target/lambda/$(call binary,$*)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
