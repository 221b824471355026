#!/usr/bin/perl

# Tests of the plugin's before_send_messages hook and configure page, with
# stand-ins for Koha's modules (t/lib) and a fake koha-webhooks program
# that records its arguments.

use strict;
use warnings;

use FindBin qw($Bin);
use lib "$Bin/lib", "$Bin/..";

use File::Temp qw(tempdir);
use Test::More;

use Koha::Plugin::Org::KohaWebhooks;

my $dir       = tempdir( CLEANUP => 1 );
my $argv_file = "$dir/argv";
my $fake      = "$dir/koha-webhooks";
open my $script, '>', $fake or die "cannot write $fake: $!";
print $script <<'SCRIPT';
#!/bin/sh
if [ "$1" = version ]; then echo "koha-webhooks 9.9.9"; exit 0; fi
for arg in "$@"; do printf '%s\n' "$arg"; done > "$FAKE_ARGV_FILE"
echo 'time=2026-12-04T10:00:00Z level=INFO msg="pass finished" claimed=2 sent=2' >&2
if [ -n "$FAKE_ERROR" ]; then echo "koha-webhooks: $FAKE_ERROR" >&2; fi
exit "${FAKE_EXIT:-0}"
SCRIPT
close $script;
chmod 0755, $fake;

$ENV{FAKE_ARGV_FILE} = $argv_file;
$ENV{KOHA_SITES_DIR} = "$dir/sites";
delete $ENV{KOHA_CONF};

my $plugin = Koha::Plugin::Org::KohaWebhooks->new( {} );
$Koha::Plugins::Base::DATA{binary} = $fake;

# call runs the hook with params and returns the arguments the program got,
# the warnings and the error.
sub call {
    my (@params) = @_;
    unlink $argv_file;
    @Koha::Logger::MESSAGES = ();
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    my $ok    = eval { $plugin->before_send_messages(@params); 1 };
    my $error = $ok ? '' : $@;
    my @argv;
    if ( open my $fh, '<', $argv_file ) {
        chomp( @argv = <$fh> );
    }
    return ( \@argv, \@warnings, $error );
}

subtest 'array parameters of recent Koha' => sub {
    my ( $argv, $warnings, $error ) = call(
        {
            type                   => [ 'sms', 'email' ],
            letter_code            => [ 'HOLD', '', 'ODUE' ],
            message_id             => 7,
            borrowernumber         => 42,
            limit                  => 50,
            verbose                => 2,
            where                  => q{borrowernumber = 1; DROP TABLE borrowers},
            username               => 'smtp-user',
            password               => 'smtp-password',
            method                 => 'LOGIN',
            exit_on_plugin_failure => 1,
        }
    );
    is( $error, '', 'no error' );
    is_deeply(
        $argv,
        [ 'run', '--type', 'sms', '--type', 'email', '--letter-code', 'HOLD', '--letter-code', 'ODUE',
            '--message-id', 7, '--borrowernumber', 42, '--limit', 50, '-v', '-v' ],
        'every parameter but where and the SMTP login becomes a flag'
    );
    ok( ( grep { /where parameter was ignored/ } @Koha::Logger::MESSAGES ), 'the ignored where is logged' );
    ok( ( grep { /info: koha-webhooks: .*msg="pass finished" claimed=2 sent=2/ } @Koha::Logger::MESSAGES ),
        'the summary line is logged' );
    is_deeply( $warnings, [], 'no warnings' );
};

subtest 'plain string parameters of older Koha' => sub {
    my ( $argv, undef, $error ) = call( { type => 'sms', letter_code => 'HOLD', verbose => 1, limit => 0 } );
    is( $error, '', 'no error' );
    is_deeply( $argv, [ 'run', '--type', 'sms', '--letter-code', 'HOLD', '-v' ], 'strings become single flags' );
};

subtest 'no parameters of the earliest Koha' => sub {
    my ( $argv, undef, $error ) = call();
    is( $error, '', 'no error' );
    is_deeply( $argv, ['run'], 'only run' );
};

subtest 'empty lists' => sub {
    my ( $argv, undef, $error ) = call( { type => [], letter_code => [''], verbose => 0, where => '' } );
    is( $error, '', 'no error' );
    is_deeply( $argv, ['run'], 'no filters' );
};

subtest 'webhook and skip_webhook pass through' => sub {
    my ($argv) = call( { type => ['skip_webhook'] } );
    is_deeply( $argv, [ 'run', '--type', 'skip_webhook' ], 'skip_webhook' );
    ($argv) = call( { type => 'webhook' } );
    is_deeply( $argv, [ 'run', '--type', 'webhook' ], 'webhook' );
};

subtest 'instance from KOHA_CONF' => sub {
    mkdir "$dir/sites";
    mkdir "$dir/sites/library";
    open my $conf, '>', "$dir/sites/library/koha-conf.xml" or die $!;
    close $conf;
    local $ENV{KOHA_CONF} = "$dir/sites/library/koha-conf.xml";
    my ($argv) = call( { type => ['sms'] } );
    is_deeply( $argv, [ 'run', '--type', 'sms', '--instance', 'library' ], 'instance named by the koha-conf.xml path' );
};

subtest 'instance from the database name' => sub {
    local $C4::Context::CONFIG{database} = 'koha_library';
    my ($argv) = call();
    is_deeply( $argv, [ 'run', '--instance', 'library' ], 'koha_library with an instance directory' );
    local $C4::Context::CONFIG{database} = 'koha_elsewhere';
    ($argv) = call();
    is_deeply( $argv, ['run'], 'no --instance without the instance directory' );
};

subtest 'missing program' => sub {
    local $Koha::Plugins::Base::DATA{binary} = "$dir/absent/koha-webhooks";
    my ( $argv, $warnings, $error ) = call( { type => ['sms'] } );
    like( $error, qr/did not complete/, 'the hook dies, so --exit-on-plugin-failure can stop Koha' );
    like( join( '', @$warnings ), qr{not found or not executable at \Q$dir\E/absent/koha-webhooks: webhook notices were NOT sent},
        'a loud warning names the path' );
    ok( ( grep { /^warn: / } @Koha::Logger::MESSAGES ), 'the warning is logged too' );
};

subtest 'program fails' => sub {
    local $ENV{FAKE_EXIT}  = 2;
    local $ENV{FAKE_ERROR} = 'setting notice_url is missing; set WEBHOOK_NOTICE_URL';
    my ( $argv, $warnings, $error ) = call( { type => ['sms'] } );
    like( $error, qr/did not complete/, 'the hook dies' );
    like( join( '', @$warnings ), qr/exited with status 2: koha-webhooks: setting notice_url is missing/,
        'the warning has the status and the last output line' );
    is_deeply( $argv, [ 'run', '--type', 'sms' ], 'the program ran' );
};

subtest 'configure page' => sub {
    my $cgi = bless { op => '' }, 'FakeCGI';
    $plugin->{cgi} = $cgi;
    @Koha::Plugins::Base::OUTPUT = ();
    $plugin->configure;
    my $page = $Koha::Plugins::Base::OUTPUT[-1];
    is( $page->{binary},         $fake,               'shows the path' );
    is( $page->{executable},     1,                   'reports the program as executable' );
    is( $page->{binary_version}, 'koha-webhooks 9.9.9', 'shows the program version' );
    like( $page->{project_url}, qr{^https://}, 'links to the project' );

    $cgi->{op}     = 'cud-save';
    $cgi->{binary} = ' /nonexistent/koha-webhooks ';
    $plugin->configure;
    is( $Koha::Plugins::Base::DATA{binary}, '/nonexistent/koha-webhooks', 'stores a new path, trimmed' );
    $page = $Koha::Plugins::Base::OUTPUT[-1];
    is( $page->{exists}, 0, 'reports a missing program' );

    $cgi->{binary} = 'relative/path';
    $plugin->configure;
    like( $Koha::Plugins::Base::OUTPUT[-1]{error}, qr/absolute/, 'rejects a relative path' );
    is( $Koha::Plugins::Base::DATA{binary}, '/nonexistent/koha-webhooks', 'keeps the stored path' );
    $Koha::Plugins::Base::DATA{binary} = $fake;
};

done_testing();

package FakeCGI;

sub param {
    my ( $self, $name ) = @_;
    return $self->{$name};
}
