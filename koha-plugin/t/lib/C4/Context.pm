package C4::Context;

# Test stand-in for Koha's C4::Context: config reads %CONFIG.

use strict;
use warnings;

our %CONFIG;

sub config {
    my ( $class, $name ) = @_;
    return $CONFIG{$name};
}

1;
