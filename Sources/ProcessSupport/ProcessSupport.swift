import PowaCore
