// Runs on: any (unit test).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
