package Koha::Logger;

# Test stand-in for Koha::Logger: messages are collected in @MESSAGES as
# "level: message".

use strict;
use warnings;

our @MESSAGES;

sub get { return bless {}, shift }

for my $level (qw(debug info warn error)) {
    no strict 'refs';
    *{$level} = sub { push @MESSAGES, "$level: $_[1]"; return };
}

1;
