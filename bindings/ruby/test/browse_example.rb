# frozen_string_literal: true

# test.sh helper for the README's interactive examples: runs `ruby -Ilib EXAMPLE`, and when the
# example prints "Open <authorization URL>", logs in and consents with the scripted browser and
# types the redirect URL it ends at into the example's stdin. Prints the example's output;
# exits with its status.
#
#   ruby test/browse_example.rb ISSUER CA_FILE EXAMPLE.rb
require "open3"
require "rbconfig"
require_relative "idp_browser"

issuer, ca_file, example = ARGV
lib = File.expand_path("../lib", __dir__)
# stdout is a pipe here, not a terminal: unbuffer it so the prompt arrives before `gets` waits
run = ["$stdout.sync = true", "$PROGRAM_NAME = ARGV.first", "load ARGV.first"].join("; ")
status = Open3.popen2e(RbConfig.ruby, "-I", lib, "-e", run, example) do |stdin, out, wait|
  out.each_line do |line|
    puts line
    next unless (url = line[/\AOpen (https:\S+)/, 1])

    stdin.puts TestSupport::Browser.new(issuer, ca_file).authorize(url)
    stdin.flush
  end
  wait.value
end
exit(status.exitstatus || 1)
