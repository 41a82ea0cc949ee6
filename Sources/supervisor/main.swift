print("powa-collector: not yet")
